"""The weekly digest: what changed on the Hub since a channel's last digest, from the cache only.

It covers the new releases of Chinese and US orgs (grouped by org, notable first, third-party
quantizations and tiny repos counted but not listed), the CN vs US download share in both
attributions with the change in percentage points since the last digest, the orgs whose share
moved most, and a chart of the last weeks. When no snapshot was taken since the channel's last
digest it says so instead of repeating old news.

When the whole-Hub history has archived weeks, it also announces their crossovers
(``bot.channels.crossover_news``): China passing the US or the reverse, a family passing
another, an org entering or leaving the top 10. A digest announces the pairs of weeks that
became known since the channel's last digest (a first digest: those of the last few weeks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.answers.charts import Series, country_colour, share_over_time
from bot.answers.message import Chart
from bot.answers.render import render_message
from bot.channels.crossover_news import CrossoverNews, recent_crossovers
from bot.channels.new_models import Grouped, group_by_org, releases
from bot.core.registry import country_name
from bot.model.aggregates import COUNTRY, LINEAGE, ORG, PUBLISHER
from bot.model.crossovers import COUNTRIES as COUNTRY_CROSSOVERS
from bot.store.reader import Reader, Snapshot
from bot.store.snapshots import is_demo_source

COUNTRIES = ("CN", "US")
WEEK = timedelta(days=7)
MODELS_PER_ORG = 3
ORGS_PER_COUNTRY = 6
MOVERS = 3
CHART_WEEKS = 12
CROSSOVERS_SHOWN = 8
FIRST_DIGEST_WEEKS = timedelta(weeks=4)
"""A channel's first digest announces the crossovers of archived weeks this recent."""
ARCHIVE_LAG = timedelta(weeks=3)
"""A later digest announces crossovers of weeks starting at most this long before the last
digest: the archive publishes a week days after it starts, and a backfill's older weeks are
history, not news."""
ATTRIBUTION_NOTES = {
    PUBLISHER: "who uploaded the models",
    LINEAGE: "whose base models they are built on",
}


@dataclass(frozen=True)
class ShareLine:
    code: str
    name: str
    share: float
    change: float | None


@dataclass(frozen=True)
class ShareView:
    attribution: str
    note: str
    lines: tuple[ShareLine, ...]


@dataclass(frozen=True)
class Mover:
    org: str
    display_name: str
    share: float
    change: float


@dataclass(frozen=True)
class CountryReleases:
    code: str
    name: str
    grouped: Grouped
    total: int


@dataclass(frozen=True)
class DigestContent:
    snapshot: Snapshot
    baseline: Snapshot | None
    since: datetime
    shares: tuple[ShareView, ...]
    releases: tuple[CountryReleases, ...]
    gainers: tuple[Mover, ...]
    losers: tuple[Mover, ...]
    chart_weeks: int
    crossovers: tuple[CrossoverNews, ...] = ()
    more_crossovers: int = 0

    @property
    def illustrative(self) -> bool:
        """The digest's snapshot is the bundled demo: invented figures, said so."""
        return is_demo_source(self.snapshot.source)

    @property
    def crossover_sources(self) -> list[str]:
        """The archives the crossovers' weeks came from."""
        return sorted({news.crossover.source for news in self.crossovers})


def baseline_for(
    reader: Reader, snapshot: Snapshot, last_snapshot_id: int | None
) -> Snapshot | None:
    """What the digest compares with: the snapshot of the channel's last digest, else the
    snapshot about a week earlier."""
    if last_snapshot_id is not None and last_snapshot_id != snapshot.id:
        last = reader.snapshot(last_snapshot_id)
        if last is not None and last.taken_at < snapshot.taken_at:
            return last
    return reader.week_before(snapshot)


def _shares(reader: Reader, snapshot: Snapshot, baseline: Snapshot | None) -> tuple[ShareView, ...]:
    views = []
    for attribution in (PUBLISHER, LINEAGE):
        now = {
            a.key: a.share
            for a in reader.aggregates(snapshot.id, attribution, COUNTRY, keys=COUNTRIES)
        }
        before = (
            {
                a.key: a.share
                for a in reader.aggregates(baseline.id, attribution, COUNTRY, keys=COUNTRIES)
            }
            if baseline
            else {}
        )
        lines = tuple(
            ShareLine(
                code,
                country_name(code),
                now.get(code, 0.0),
                now.get(code, 0.0) - before.get(code, 0.0) if baseline else None,
            )
            for code in COUNTRIES
        )
        views.append(ShareView(attribution, ATTRIBUTION_NOTES[attribution], lines))
    return tuple(views)


def _movers(
    reader: Reader, snapshot: Snapshot, baseline: Snapshot | None
) -> tuple[tuple[Mover, ...], tuple[Mover, ...]]:
    if baseline is None:
        return (), ()
    now = {a.key: a.share for a in reader.aggregates(snapshot.id, PUBLISHER, ORG)}
    before = {a.key: a.share for a in reader.aggregates(baseline.id, PUBLISHER, ORG)}
    moves = []
    for key in now.keys() | before.keys():
        change = now.get(key, 0.0) - before.get(key, 0.0)
        if abs(change) >= 0.0005:
            org = reader.registry.get(key)
            moves.append(Mover(key, org.display_name if org else key, now.get(key, 0.0), change))
    gainers = sorted((m for m in moves if m.change > 0), key=lambda m: (-m.change, m.org))
    losers = sorted((m for m in moves if m.change < 0), key=lambda m: (m.change, m.org))
    return tuple(gainers[:MOVERS]), tuple(losers[:MOVERS])


def _releases(reader: Reader, snapshot: Snapshot, since: datetime) -> tuple[CountryReleases, ...]:
    found = []
    for code in COUNTRIES:
        authors = [org.org for org in reader.registry if org.country == code]
        models = reader.created_between(since, snapshot.taken_at, authors)
        listed = releases(reader, snapshot.id, models)
        grouped = group_by_org(
            listed, reader.registry, per_org=MODELS_PER_ORG, max_orgs=ORGS_PER_COUNTRY
        )
        found.append(CountryReleases(code, country_name(code), grouped, len(listed)))
    return tuple(found)


def _crossovers(
    reader: Reader, snapshot: Snapshot, since: datetime, first: bool
) -> list[CrossoverNews]:
    """The crossovers of recent weeks known since ``since`` (the last digest's snapshot) and
    by ``snapshot``; for a first digest, those of the last few weeks. China vs the US is the
    only pair of countries a digest reports."""
    known_after: datetime | None
    if first:
        known_after, weeks_from = None, snapshot.taken_at - FIRST_DIGEST_WEEKS
    else:
        known_after, weeks_from = since, since - ARCHIVE_LAG
    found = recent_crossovers(
        reader.engine,
        reader.registry,
        weeks_from=weeks_from.date(),
        known_after=known_after,
        known_until=snapshot.taken_at,
    )
    return [news for news in found if news.crossover.kind != COUNTRY_CROSSOVERS or news.is_cn_vs_us]


def build(
    reader: Reader, snapshot: Snapshot, baseline: Snapshot | None, *, first: bool = False
) -> DigestContent:
    """Everything a digest says, for one snapshot against one baseline; ``first`` for a
    channel that never had a digest."""
    since = baseline.taken_at if baseline else snapshot.taken_at - WEEK
    gainers, losers = _movers(reader, snapshot, baseline)
    crossovers = _crossovers(reader, snapshot, since, first)
    return DigestContent(
        snapshot=snapshot,
        baseline=baseline,
        since=since,
        shares=_shares(reader, snapshot, baseline),
        releases=_releases(reader, snapshot, since),
        gainers=gainers,
        losers=losers,
        chart_weeks=len(_chart_points(reader, snapshot, CHART_WEEKS)),
        crossovers=tuple(crossovers[:CROSSOVERS_SHOWN]),
        more_crossovers=max(0, len(crossovers) - CROSSOVERS_SHOWN),
    )


def payload(content: DigestContent, *, late_due: str | None = None) -> dict[str, Any]:
    """The message for the ledger (the chart is drawn when it is posted); ``late_due`` says
    when a late digest was due."""
    message = render_message("digest.j2", d=content, late_due=late_due)
    body: dict[str, Any] = {"text": message.text, "blocks": message.blocks}
    if content.chart_weeks >= 2:
        body["chart_snapshot_id"] = content.snapshot.id
    return body


def no_news_payload(snapshot: Snapshot, *, late_due: str | None = None) -> dict[str, Any]:
    """The message when nothing was crawled since the channel's last digest."""
    message = render_message(
        "digest_no_news.j2",
        snapshot=snapshot,
        late_due=late_due,
        illustrative=is_demo_source(snapshot.source),
    )
    return {"text": message.text, "blocks": message.blocks}


def _weekly(snapshots: list[Snapshot], weeks: int) -> list[Snapshot]:
    """The latest snapshot of each of the last ``weeks`` ISO weeks, oldest first."""
    by_week: dict[tuple[int, int], Snapshot] = {}
    for snap in snapshots:
        iso = snap.taken_at.isocalendar()
        key = (iso.year, iso.week)
        if key not in by_week or by_week[key].taken_at < snap.taken_at:
            by_week[key] = snap
    return sorted(by_week.values(), key=lambda s: s.taken_at)[-weeks:]


def _chart_points(reader: Reader, snapshot: Snapshot, weeks: int) -> list[Snapshot]:
    recent = [
        s
        for s in reader.snapshots(limit=weeks * 7 * 24)
        if snapshot.taken_at - WEEK * weeks < s.taken_at <= snapshot.taken_at
    ]
    return _weekly(recent, weeks)


def chart(reader: Reader, snapshot_id: int, weeks: int = CHART_WEEKS) -> Chart | None:
    """CN vs US share over the last weeks, both attributions (lineage dashed)."""
    snapshot = reader.snapshot(snapshot_id)
    if snapshot is None:
        return None
    points = _chart_points(reader, snapshot, weeks)
    if len(points) < 2:
        return None
    series = []
    for attribution in (PUBLISHER, LINEAGE):
        values: dict[str, list[tuple[datetime, float]]] = {code: [] for code in COUNTRIES}
        for snap in points:
            shares = {
                a.key: a.share
                for a in reader.aggregates(snap.id, attribution, COUNTRY, keys=COUNTRIES)
            }
            for code in COUNTRIES:
                values[code].append((snap.taken_at, shares.get(code, 0.0)))
        for code in COUNTRIES:
            series.append(
                Series(
                    f"{country_name(code)} ({attribution})",
                    values[code],
                    country_colour(code),
                    dashed=attribution == LINEAGE,
                )
            )
    return share_over_time(
        f"China vs US share of Hub downloads, last {len(points)} weeks",
        series,
        illustrative=is_demo_source(snapshot.source),
    )
