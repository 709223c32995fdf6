"""``/share``: download share by country, org (and its family), model or one country.

Every figure comes from the snapshot's precomputed aggregates, compared with the snapshot a
week earlier when there is one. With a period (``/share cn 2025``) or two targets
(``/share qwen vs meta-llama``) the answer comes from the archived whole-Hub weeks instead
(``commands.share_history``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.charts import Series, country_colour, share_over_time
from bot.answers.message import Answer, Chart
from bot.answers.names import CountryName, ModelName, OrgName, resolve
from bot.answers.render import as_of, render_message
from bot.core.errors import UserError
from bot.core.registry import UNKNOWN_COUNTRY, country_name
from bot.model.aggregates import COUNTRY, LINEAGE, ORG, PUBLISHER, AggregateRow
from bot.model.periods import split_period
from bot.store.reader import Model, Reader, Snapshot
from commands.args import parse_args
from commands.base import Command, Context
from commands.hubpulse import help_answer
from commands.share_history import (
    check_last_word,
    is_versus,
    misplaced_period,
    period_share,
    versus,
)

TOP_MODELS = 5
TOP_ORGS = 5
ORG_ROWS_SCANNED = 100
MAIN_COUNTRIES = ("CN", "US")
WEEKLY_BASIS = {
    "all_time": "measured from the all-time count",
    "30d": "estimated as 7/30 of the 30-day count",
}


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
class ShareLine:
    label: str
    share: float
    downloads: float
    change: float | None
    note: str = ""


@dataclass(frozen=True)
class Standing:
    """One aggregate row with its change in share since a week earlier."""

    row: AggregateRow | None
    change: float | None

    @property
    def share(self) -> float:
        return self.row.share if self.row else 0.0


def _standing(reader: Reader, frame: Frame, attribution: str, level: str, key: str) -> Standing:
    row = reader.aggregate(frame.snapshot.id, attribution, level, key)
    if frame.before is None:
        return Standing(row, None)
    earlier = reader.aggregate(frame.before.id, attribution, level, key)
    return Standing(row, (row.share if row else 0.0) - (earlier.share if earlier else 0.0))


def _common(reader: Reader, frame: Frame) -> dict[str, object]:
    return {
        "snapshot": frame.snapshot,
        "before": frame.before,
        "as_of": as_of(frame.snapshot, reader.clock.now()),
    }


def _history_chart(
    reader: Reader,
    title: str,
    level: str,
    keys: list[tuple[str, str]],
    attribution_labels: tuple[str, str],
) -> Chart | None:
    """Share over time of ``keys`` (key, label): publisher solid, lineage dashed."""
    lines: list[Series] = []
    for attribution, suffix, dashed in (
        (PUBLISHER, attribution_labels[0], False),
        (LINEAGE, attribution_labels[1], True),
    ):
        history = reader.history(attribution, level, [key for key, _ in keys])
        if len(history) < 2:
            return None
        for index, (key, label) in enumerate(keys):
            colour = country_colour(key) if level == COUNTRY else f"C{index}"
            points = [(snapshot.taken_at, shares[key]) for snapshot, shares in history]
            lines.append(Series(f"{label} {suffix}", points, colour, dashed))
    return share_over_time(title, lines)


def _country_lines(reader: Reader, frame: Frame, attribution: str) -> list[ShareLine]:
    """CN, US, the next largest country, then everything else with other/unknown."""
    rows = reader.aggregates(frame.snapshot.id, attribution, COUNTRY)
    before = (
        {r.key: r.share for r in reader.aggregates(frame.before.id, attribution, COUNTRY)}
        if frame.before
        else None
    )
    by_key = {row.key: row for row in rows}
    picked = list(MAIN_COUNTRIES)
    picked += [r.key for r in rows if r.key not in (*MAIN_COUNTRIES, UNKNOWN_COUNTRY)][:1]
    lines = []
    for key in picked:
        row = by_key.get(key)
        share = row.share if row else 0.0
        change = None if before is None else share - before.get(key, 0.0)
        lines.append(ShareLine(country_name(key), share, row.downloads if row else 0.0, change))
    rest = [row for row in rows if row.key not in picked]
    countries = sum(1 for row in rest if row.key != UNKNOWN_COUNTRY)
    more = f" and {countries} more {'country' if countries == 1 else 'countries'}"
    note = "unregistered orgs" + (more if countries else "")
    share = sum(row.share for row in rest)
    change = (
        None
        if before is None
        else share - sum(value for key, value in before.items() if key not in picked)
    )
    lines.append(
        ShareLine("Other/unknown", share, sum(row.downloads for row in rest), change, note)
    )
    return lines


def overview(reader: Reader, frame: Frame, want_chart: bool) -> Answer:
    views = [
        ("publisher", "who uploaded each model", _country_lines(reader, frame, PUBLISHER)),
        (
            "lineage",
            "whose base model each model is built on",
            _country_lines(reader, frame, LINEAGE),
        ),
    ]
    answer = render_message("share_overview.j2", views=views, **_common(reader, frame))
    chart = None
    if want_chart:
        chart = _history_chart(
            reader,
            "Share of Hub downloads: China vs United States",
            COUNTRY,
            [("CN", "China"), ("US", "United States")],
            ("(publisher)", "(lineage)"),
        )
    answer.chart = chart
    return answer


def org_share(reader: Reader, frame: Frame, org: OrgName, want_chart: bool) -> Answer:
    top = reader.top_models(frame.snapshot.id, org.org, TOP_MODELS)
    downloads_total = frame.snapshot.downloads_total
    models = [
        (model, stat, stat.downloads / downloads_total if stat.in_top and downloads_total else None)
        for model, stat in top
    ]
    answer = render_message(
        "share_org.j2",
        org=org,
        own=_standing(reader, frame, PUBLISHER, ORG, org.org),
        family=_standing(reader, frame, LINEAGE, ORG, org.org),
        models=models,
        **_common(reader, frame),
    )
    chart = None
    if want_chart:
        chart = _history_chart(
            reader,
            f"{org.display_name}: share of Hub downloads",
            ORG,
            [(org.org, org.display_name)],
            ("own repos", "whole family"),
        )
    answer.chart = chart
    return answer


def model_share(reader: Reader, frame: Frame, model: Model) -> Answer:
    snapshot = frame.snapshot
    stat = reader.stat(snapshot.id, model.id)
    share = (
        stat.downloads / snapshot.downloads_total
        if stat and stat.in_top and snapshot.downloads_total
        else None
    )
    family = stat.family if stat else None
    family_org = reader.registry.get(family) if family else None
    answer = render_message(
        "share_model.j2",
        model=model,
        stat=stat,
        share=share,
        basis=WEEKLY_BASIS.get(stat.weekly_basis or "", "") if stat else "",
        publisher=reader.registry.get(model.author),
        country=country_name(reader.registry.country_of(model.author)),
        parents=reader.parents(model.id),
        family=family,
        family_name=family_org.display_name if family_org else family,
        family_standing=_standing(reader, frame, LINEAGE, ORG, family) if family else None,
        **_common(reader, frame),
    )
    return answer


def _top_orgs(reader: Reader, frame: Frame, code: str) -> list[tuple[str, str, Standing]]:
    """The country's largest orgs (unregistered ones for other/unknown): key, name, figure."""
    registry = reader.registry
    if code == UNKNOWN_COUNTRY:
        scanned = reader.aggregates(frame.snapshot.id, PUBLISHER, ORG, limit=ORG_ROWS_SCANNED)
        rows = [row for row in scanned if registry.get(row.key) is None][:TOP_ORGS]
    else:
        keys = [org.org for org in registry if org.country == code]
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


def country_share(reader: Reader, frame: Frame, code: str, want_chart: bool) -> Answer:
    name = country_name(code)
    answer = render_message(
        "share_country.j2",
        unregistered_orgs=code == UNKNOWN_COUNTRY,
        name=name,
        publisher=_standing(reader, frame, PUBLISHER, COUNTRY, code),
        lineage=_standing(reader, frame, LINEAGE, COUNTRY, code),
        orgs=_top_orgs(reader, frame, code),
        **_common(reader, frame),
    )
    chart = None
    if want_chart:
        chart = _history_chart(
            reader,
            f"{name}: share of Hub downloads",
            COUNTRY,
            [(code, name)],
            ("(publisher)", "(lineage)"),
        )
    answer.chart = chart
    return answer


def run(text: str, context: Context) -> Answer:
    args = parse_args(text)
    if args.help:
        return help_answer(COMMAND)
    with context.reader.session() as reader:  # every fact of the answer on one connection
        if is_versus(args.words):
            return args.publish(versus(reader, args.words, context.want_chart))
        words, period = split_period(args.words, reader.clock.now().date())
        if period is not None and not period.needs_history:
            period = None  # 30d: the live snapshot, as with no period
        check_last_word(words)
        if period is not None:
            return args.publish(period_share(reader, words, period))
        frame = Frame.latest(reader)
        if not words:
            return args.publish(overview(reader, frame, context.want_chart))
        try:
            name = resolve(" ".join(words), reader, frame.snapshot.id)
        except UserError:
            misplaced_period(words, versus=False)
            raise
        if isinstance(name, OrgName):
            answer = org_share(reader, frame, name, context.want_chart)
        elif isinstance(name, ModelName):
            answer = model_share(reader, frame, name.model)
        else:
            assert isinstance(name, CountryName)
            answer = country_share(reader, frame, name.code, context.want_chart)
    return args.publish(answer)


COMMAND = Command(
    name="/share",
    summary=(
        "Share of Hub downloads by country, org, family or model, over any period, "
        "or two head to head."
    ),
    usage="/share [org | family | model | country] [vs another] [period]",
    examples=(
        "/share",
        "/share qwen",
        "/share deepseek-ai/DeepSeek-R1",
        "/share cn",
        "/share cn 2025",
        "/share qwen 2025-Q3",
        "/share since 2025-01-20",
        "/share all-time",
        "/share qwen vs meta-llama",
        "/share cn vs us 2025",
    ),
    run=run,
    details=(
        "With nothing after it: China, the US, the next largest country and everyone else, "
        "by publisher (who uploaded the model) and by lineage (whose base model it is built on). "
        "With an org or family: its share, rank, its whole family's share and its top models. "
        "With a model id: its downloads, share and family. With a country: its share and "
        "top orgs. Shares are of the snapshot's top-N models' 30-day downloads.\n"
        "A period at the end (`30d`, the default; `2025`, `2025-Q3`, `since 2025-01-20`, "
        "`all-time`) answers for orgs, families and countries from the archived weekly "
        "snapshots of the whole Hub (`hubpulse backfill`): the growth of all-time downloads "
        "between the weeks at the period's ends (7/30 of each week's 30-day downloads before "
        "the archive had all-time counts), or all-time downloads for `all-time`.\n"
        "`vs` puts two targets head to head over the archived weeks: who leads, by how much, "
        "and the week the lead changed hands, in 30-day and all-time downloads. Orgs are "
        "compared as families (lineage) and countries by publisher first; add `publisher` "
        "or `lineage` at the end to lead with the other."
    ),
)
