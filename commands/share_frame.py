"""What every ``/share`` answer reads from the snapshot cache: the latest snapshot and the one
a week earlier, rows with their change, how much sits with unregistered authors, and the
largest orgs of a set, and their share over time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.answers.charts import Series, share_over_time
from bot.answers.message import Chart
from bot.answers.render import as_of
from bot.core.registry import UNKNOWN_COUNTRY
from bot.model.aggregates import ATTRIBUTIONS, COUNTRY, LINEAGE, ORG, PUBLISHER, AggregateRow
from bot.store.reader import Reader, Snapshot
from bot.store.snapshots import is_demo_source
from commands.share_scopes import Rows

TOP_ORGS = 5
ORG_ROWS_SCANNED = 100


@dataclass(frozen=True)
class Frame:
    """The snapshot an answer reads, and the one a week earlier to compare with (if any)."""

    snapshot: Snapshot
    before: Snapshot | None

    @classmethod
    def latest(cls, reader: Reader) -> Frame:
        snapshot = reader.latest()
        return cls(snapshot, reader.week_before(snapshot))


@dataclass(frozen=True)
class Standing:
    """One aggregate row with its change in share since a week earlier."""

    row: AggregateRow | None
    change: float | None

    @property
    def share(self) -> float:
        return self.row.share if self.row else 0.0


def standing(reader: Reader, frame: Frame, attribution: str, level: str, key: str) -> Standing:
    row = reader.aggregate(frame.snapshot.id, attribution, level, key)
    if frame.before is None:
        return Standing(row, None)
    earlier = reader.aggregate(frame.before.id, attribution, level, key)
    return Standing(row, (row.share if row else 0.0) - (earlier.share if earlier else 0.0))


def rows_of(
    reader: Reader, frame: Frame, attribution: str, level: str, keys: list[str] | None = None
) -> Rows:
    """A level's rows (only ``keys``' when given), now and a week earlier."""
    now = reader.aggregates(frame.snapshot.id, attribution, level, keys=keys)
    if frame.before is None:
        return Rows(now, None)
    return Rows(now, reader.aggregates(frame.before.id, attribution, level, keys=keys))


def common(reader: Reader, frame: Frame) -> dict[str, object]:
    """What every answer shows: the snapshots compared, the data's age, and how much of the
    downloads sit with unregistered authors (the coverage of the registry)."""
    unregistered = {
        attribution: reader.aggregate(frame.snapshot.id, attribution, COUNTRY, UNKNOWN_COUNTRY)
        for attribution in ATTRIBUTIONS
    }
    return {
        "snapshot": frame.snapshot,
        "before": frame.before,
        "as_of": as_of(frame.snapshot, reader.clock.now()),
        "unregistered": {
            attribution: row.share if row else 0.0 for attribution, row in unregistered.items()
        },
    }


def top_orgs(
    reader: Reader, frame: Frame, keys: list[str] | None
) -> list[tuple[str, str, Standing]]:
    """The largest of these orgs by own repos (unregistered ones when ``keys`` is None): key,
    name, figure."""
    registry = reader.registry
    if keys is None:
        scanned = reader.aggregates(frame.snapshot.id, PUBLISHER, ORG, limit=ORG_ROWS_SCANNED)
        rows = [row for row in scanned if registry.get(row.key) is None][:TOP_ORGS]
    else:
        rows = reader.aggregates(frame.snapshot.id, PUBLISHER, ORG, keys=keys, limit=TOP_ORGS)
    before: dict[str, float] = {}
    if frame.before is not None and rows:
        earlier = reader.aggregates(frame.before.id, PUBLISHER, ORG, keys=[r.key for r in rows])
        before = {row.key: row.share for row in earlier}
    found = []
    for row in rows:
        org = registry.get(row.key)
        change = None if frame.before is None else row.share - before.get(row.key, 0.0)
        found.append((row.key, org.display_name if org else row.key, Standing(row, change)))
    return found


@dataclass(frozen=True)
class Line:
    """One line of a share chart: its label, the keys whose shares it sums, its colour."""

    label: str
    keys: Sequence[str]
    colour: str


def history_chart(
    reader: Reader, title: str, level: str, lines: Sequence[Line], suffixes: tuple[str, str]
) -> Chart | None:
    """Share over time of each line: publisher solid, lineage dashed (labels end with
    ``suffixes``' first and second); None before two snapshots."""
    keys = list(dict.fromkeys(key for line in lines for key in line.keys))
    series: list[Series] = []
    for attribution, suffix, dashed in (
        (PUBLISHER, suffixes[0], False),
        (LINEAGE, suffixes[1], True),
    ):
        history = reader.history(attribution, level, keys)
        if len(history) < 2:
            return None
        for line in lines:
            points = [
                (snapshot.taken_at, sum(shares[key] for key in line.keys))
                for snapshot, shares in history
            ]
            series.append(Series(f"{line.label} {suffix}", points, line.colour, dashed))
    demo = any(is_demo_source(snapshot.source) for snapshot, _ in history)
    return share_over_time(title, series, illustrative=demo)
