"""``/share`` over the archived whole-Hub history: a period's shares (``/share cn 2025``) and
head to head (``/share qwen vs meta-llama``).

Every figure comes from the archived weeks (``bot.store.history``, read on the answer's one
connection); ``bot.model.period_shares`` finds a period's downloads, ``bot.model.leads`` who
leads. Answers name the weeks, the archive, the method and the attribution.

Head to head compares families (lineage attribution, org level) when either side is an org,
and publishers when both are countries; ``publisher`` or ``lineage`` at the end says otherwise.
The other attribution follows, unless its figures are the same.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from bot.answers.charts import Series, country_colour, share_over_time
from bot.answers.message import Answer, Chart
from bot.answers.mrkdwn import echo, escape, inline
from bot.answers.names import CountryName, ModelName, OrgName, resolve
from bot.answers.render import render_message
from bot.core.errors import UserError
from bot.core.registry import UNKNOWN_COUNTRY, country_name
from bot.model.aggregates import ATTRIBUTIONS, COUNTRY, LINEAGE, ORG, PUBLISHER
from bot.model.leads import Lead, Point, compare
from bot.model.period_shares import (
    ALL_TIME,
    PeriodShare,
    Span,
    find_span,
    level_keys,
    lost,
    period_shares,
    ranked,
    total_downloads,
)
from bot.model.periods import Period, split_period
from bot.store.history import History, KeyWeek, WeekRow
from bot.store.reader import Reader
from bot.store.snapshots import is_demo_source

MAIN_COUNTRIES = ("CN", "US")
TOP_ORGS = 5
VERSUS = frozenset({"vs", "vs.", "versus"})
ATTRIBUTION_WORDS = {"publisher": PUBLISHER, "lineage": LINEAGE}
FAMILY_WORDS = frozenset({"family", "families"})
PERIODS = "`30d`, `2025`, `2025-Q3`, `since 2025-01-20` or `all-time`"
LOOKS_LIKE_A_PERIOD = re.compile(r"^(\d{4}([-/.q]\S*)?|since|all-?time|\d+d)$", re.IGNORECASE)
"""A word meant as a period, checked when the words fail to name a target."""
NOT_A_PERIOD = re.compile(r"^(\d{4}(-?q\d*|-\d{1,2}(-\d{1,2})?)|since)$", re.IGNORECASE)
"""A last word that can only be a malformed period (``2025-13``, ``2025-Q5``, ``since``)."""
THIRTY_DAY, ALL_TIME_MEASURE = "30-day", "all-time"
EXPLAIN = {
    PUBLISHER: "each model counts for the org that uploaded it",
    LINEAGE: "each model counts for the org of its root base model",
}
NO_HISTORY = (
    "There is no whole-Hub history yet: `hubpulse backfill` imports the public weekly "
    "archive (two years in one command)."
)


@dataclass(frozen=True)
class Target:
    """An org (its own repos or its family) or a country, as the history keys it."""

    level: str
    key: str
    name: str
    country: str
    registered: bool = True

    def label(self, attribution: str) -> str:
        """As people call it mid-sentence: "the Alibaba Qwen family", "the United States"."""
        if self.level == COUNTRY:
            return f"the {self.name}" if self.name.startswith("United ") else self.name
        return f"the {self.name} family" if attribution == LINEAGE else self.name


# Reading


def _weeks(history: History) -> list[WeekRow]:
    weeks = history.weeks()
    if not weeks:
        raise UserError(NO_HISTORY)
    return weeks


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _span(weeks: list[WeekRow], period: Period) -> Span[WeekRow]:
    span = find_span(weeks, period)
    if span is not None:
        return span
    if period.kind == ALL_TIME:
        raise UserError(
            "No archived week has all-time download counts (`downloadsAllTime`): "
            "`hubpulse backfill` imports the archive's newer weeks."
        )
    if weeks[0].day > period.end:
        raise UserError(
            f"No archived week covers {period.label}: the history has the weeks of "
            f"{_day(weeks[0].day)} to {_day(weeks[-1].day)}; `hubpulse backfill --since "
            f"{period.start.isoformat()}` imports earlier weeks if the archive has them."
        )
    raise UserError(
        f"{period.label.capitalize()} needs an archived week at each end, and the history "
        f"ends with the week of {_day(weeks[-1].day)}: `hubpulse backfill` imports newer "
        "weeks when the archive publishes them."
    )


def _snapshot_id(reader: Reader) -> int:
    # Names resolve without a live snapshot too (against the registry and stored models):
    # snapshot 0 has no rows.
    snapshot = reader.latest_or_none()
    return snapshot.id if snapshot else 0


def _target(
    reader: Reader, words: Sequence[str], *, versus: bool, snapshot_id: int | None = None
) -> Target:
    text = " ".join(words)
    try:
        name = resolve(text, reader, _snapshot_id(reader) if snapshot_id is None else snapshot_id)
    except UserError:
        misplaced_period(words, versus)
        raise
    if isinstance(name, ModelName):
        if versus:
            raise UserError(
                "Head to head compares orgs, families and countries, not models: "
                "`/share qwen vs meta-llama`, `/share cn vs us`."
            )
        raise UserError(
            "Periods are for orgs, families and countries: "
            f"`/share {inline(name.model.id)}` gives the model's latest figures."
        )
    if isinstance(name, OrgName):
        return Target(ORG, name.org, name.display_name, name.country_name, name.registered)
    assert isinstance(name, CountryName)
    label = "Other/unknown" if name.code == UNKNOWN_COUNTRY else name.name
    return Target(COUNTRY, name.code, label, label)


def check_last_word(words: Sequence[str]) -> None:
    """Refuse a malformed period at the end before anything is read."""
    if words and NOT_A_PERIOD.match(words[-1]):
        raise UserError(f"{echo(words[-1])} is not a period hubpulse knows; try {PERIODS}.")


def misplaced_period(words: Sequence[str], versus: bool) -> None:
    """A word that means to be a period but is not one, or is not at the end."""
    for word in words:
        if not LOOKS_LIKE_A_PERIOD.match(word):
            continue
        if versus:
            raise UserError(
                f"{echo(word)} is not a target: a period goes at the end, "
                "like `/share cn vs us 2025`."
            )
        raise UserError(f"{echo(word)} is not a period hubpulse knows; try {PERIODS}.")


# A period's shares


@dataclass(frozen=True)
class Line:
    label: str
    share: float
    downloads: float
    note: str = ""


@dataclass(frozen=True)
class Basis:
    """What a period answer says about its data, for ``_period_basis.j2``."""

    span: Span[WeekRow]
    total: float
    unattributed: dict[str, float]
    """Share of the period's downloads of other/unknown, by attribution."""
    lost: float
    latest: date
    """The history's latest week (the period may run past it)."""

    @property
    def illustrative(self) -> bool:
        return any(is_demo_source(week.source) for week in self.span.weeks)

    @property
    def ends_early(self) -> bool:
        return self.span.period.end > self.latest and self.span.end.day == self.latest


class PeriodReader:
    """The figures of one span, read on the answer's connection. The country level (a few
    dozen keys a week) is read whole, once per attribution; orgs only by key."""

    def __init__(self, history: History, span: Span[WeekRow]) -> None:
        self.history = history
        self.span = span
        self.ids = [week.id for week in span.needed]
        self._countries: dict[str, dict[date, dict[str, KeyWeek]]] = {}

    def shares(
        self, attribution: str, level: str, keys: Sequence[str] | None = None
    ) -> dict[str, PeriodShare]:
        """Shares of ``keys``, or of every key of the level."""
        if level == COUNTRY:
            if attribution not in self._countries:
                self._countries[attribution] = self.history.at(self.ids, attribution, COUNTRY)
            figures = self._countries[attribution]
        else:
            figures = self.history.at(self.ids, attribution, level, keys)
        wanted = list(keys) if keys is not None else level_keys(self.span, figures)
        return period_shares(self.span, figures, wanted)

    def basis(self, reader: Reader, weeks: list[WeekRow]) -> Basis:
        unattributed = {
            attribution: self.shares(attribution, COUNTRY, [UNKNOWN_COUNTRY])[UNKNOWN_COUNTRY].share
            for attribution in ATTRIBUTIONS
        }
        growth = {day for run in self.span.runs if run.growth for day in (run.first, run.last)}
        ends = [week.id for week in self.span.weeks if week.day in growth]
        gone = 0.0
        if ends:
            orgs = self.history.at(ends, PUBLISHER, ORG)
            gone = lost(self.span, orgs, lambda key: reader.registry.get(key) is not None)
        return Basis(self.span, total_downloads(self.span), unattributed, gone, weeks[-1].day)


def period_share(reader: Reader, words: Sequence[str], period: Period) -> Answer:
    """``/share [target] <period>``: shares of the period's downloads."""
    target = _target(reader, words, versus=False) if words else None
    history = reader.weeks
    weeks = _weeks(history)
    figures = PeriodReader(history, _span(weeks, period))
    common = {"period": period, "basis": figures.basis(reader, weeks)}
    if target is None:
        views = [
            (
                attribution,
                EXPLAIN[attribution],
                _country_lines(figures.shares(attribution, COUNTRY)),
            )
            for attribution in ATTRIBUTIONS
        ]
        return render_message("share_period_overview.j2", views=views, **common)
    standing = {
        attribution: figures.shares(attribution, target.level, [target.key])[target.key]
        for attribution in ATTRIBUTIONS
    }
    if target.level == ORG:
        return render_message("share_period_org.j2", target=target, standing=standing, **common)
    orgs: list[tuple[str, str, PeriodShare]] = []
    keys = [org.org for org in reader.registry if org.country == target.key]
    if keys and target.key != UNKNOWN_COUNTRY:
        top = ranked(figures.shares(PUBLISHER, ORG, keys))
        for found in [s for s in top if s.downloads > 0][:TOP_ORGS]:
            org = reader.registry.get(found.key)
            orgs.append((found.key, org.display_name if org else found.key, found))
    return render_message(
        "share_period_country.j2", target=target, standing=standing, orgs=orgs, **common
    )


def _country_lines(shares: dict[str, PeriodShare]) -> list[Line]:
    """CN, US, the next largest country, then everything else with other/unknown."""
    ordered = ranked(shares)
    picked = list(MAIN_COUNTRIES)
    picked += [s.key for s in ordered if s.key not in (*MAIN_COUNTRIES, UNKNOWN_COUNTRY)][:1]
    empty = PeriodShare("", 0.0, 0.0)
    lines = [
        Line(country_name(key), shares.get(key, empty).share, shares.get(key, empty).downloads)
        for key in picked
    ]
    rest = [s for s in ordered if s.key not in picked]
    countries = sum(1 for s in rest if s.key != UNKNOWN_COUNTRY)
    more = f" and {countries} more {'country' if countries == 1 else 'countries'}"
    note = "unregistered orgs" + (more if countries else "")
    lines.append(
        Line(
            "Other/unknown",
            sum(s.share for s in rest),
            sum(s.downloads for s in rest),
            note,
        )
    )
    return lines


# Head to head


@dataclass(frozen=True)
class Versus:
    first: Target
    second: Target
    attribution: str | None
    """Asked for with ``publisher`` or ``lineage`` (or ``family`` after a side)."""
    period: Period | None


def is_versus(words: Sequence[str]) -> bool:
    return any(word.lower() in VERSUS for word in words)


def _attribution(words: list[str]) -> str | None:
    """Take a trailing ``[by] publisher`` or ``[by] lineage`` off ``words``."""
    if not words or words[-1].lower() not in ATTRIBUTION_WORDS:
        return None
    attribution = ATTRIBUTION_WORDS[words.pop().lower()]
    if words and words[-1].lower() == "by":
        words.pop()
    return attribution


def parse_versus(words: Sequence[str], reader: Reader) -> Versus:
    """``qwen vs meta-llama [period] [publisher | lineage]``, the last two in either order."""
    rest = list(words)
    attribution = _attribution(rest)
    kept, period = split_period(tuple(rest), reader.clock.now().date())
    rest = list(kept)
    attribution = attribution or _attribution(rest)
    if period is not None and not period.needs_history:
        period = None  # 30d: every archived week, as with no period
    cuts = [i for i, word in enumerate(rest) if word.lower() in VERSUS]
    if len(cuts) > 1:
        raise UserError(
            "`/share` compares two targets at a time, like `/share qwen vs meta-llama`."
        )
    (cut,) = cuts
    sides = [rest[:cut], rest[cut + 1 :]]
    for side in sides:
        if side and side[-1].lower() in FAMILY_WORDS:
            side.pop()
            attribution = attribution or LINEAGE
    if not all(sides):
        raise UserError(
            "Name a target on each side of `vs`, like `/share qwen vs meta-llama` or "
            "`/share cn vs us`."
        )
    snapshot_id = _snapshot_id(reader)
    first, second = (_target(reader, side, versus=True, snapshot_id=snapshot_id) for side in sides)
    if (first.level, first.key) == (second.level, second.key):
        raise UserError(
            f"Both sides are {escape(first.label(LINEAGE))}: name two different targets."
        )
    return Versus(first, second, attribution, period)


@dataclass(frozen=True)
class Measure:
    name: str
    lead: Lead | None
    """None when no week in view has this measure (all-time counts began later)."""


@dataclass(frozen=True)
class View:
    """Both sides in one attribution."""

    attribution: str
    explain: str
    names: tuple[str, str]
    """Both sides as people call them mid-sentence."""
    measures: list[Measure]
    same: bool
    """Its figures are the first view's: the answer says so in one line."""
    period: tuple[PeriodShare, PeriodShare] | None

    @property
    def subjects(self) -> tuple[str, str]:
        """Both sides at the start of a sentence."""
        return (_capital(self.names[0]), _capital(self.names[1]))


Figures = dict[date, tuple[KeyWeek | None, KeyWeek | None]]


def versus(reader: Reader, words: Sequence[str], want_chart: bool) -> Answer:
    """``/share <a> vs <b> [period]``: both sides week by week, who leads and since when."""
    asked = parse_versus(words, reader)
    period = asked.period
    history = reader.weeks
    weeks = _weeks(history)
    sides = (asked.first, asked.second)
    primary = asked.attribution or (
        LINEAGE if ORG in (asked.first.level, asked.second.level) else PUBLISHER
    )
    span = _span(weeks, period) if period is not None else None
    shown = _in_view(weeks, span)
    period_reader = PeriodReader(history, span) if span is not None else None
    views: list[View] = []
    figures: dict[str, Figures] = {}
    for attribution in (primary, *(a for a in ATTRIBUTIONS if a != primary)):
        figures[attribution] = _figures(history, attribution, sides, shown)
        shares = None
        if period_reader is not None:
            first, second = (
                period_reader.shares(attribution, side.level, [side.key])[side.key]
                for side in sides
            )
            shares = (first, second)
        views.append(
            View(
                attribution,
                EXPLAIN[attribution],
                (asked.first.label(attribution), asked.second.label(attribution)),
                [
                    Measure(measure, compare(_points(shown, figures[attribution], measure)))
                    for measure in (THIRTY_DAY, ALL_TIME_MEASURE)
                ],
                same=bool(views) and same_figures(figures[primary], figures[attribution]),
                period=shares,
            )
        )
    answer = render_message(
        "share_versus.j2",
        title=f"{views[0].subjects[0]} vs {views[0].names[1]}",
        views=views,
        period=period,
        span=span,
        basis=period_reader.basis(reader, weeks) if period_reader is not None else None,
        weeks=shown,
        sources=sorted({week.source for week in shown}),
        unregistered=[side for side in sides if side.level == ORG and not side.registered],
        illustrative=any(is_demo_source(week.source) for week in shown),
    )
    if want_chart:
        answer.chart = _versus_chart(views[0], sides, figures[primary], shown)
    return answer


def _in_view(weeks: list[WeekRow], span: Span[WeekRow] | None) -> list[WeekRow]:
    """The weeks head to head shows: all, or the period's (up to its end for ``all-time``)."""
    if span is None:
        return weeks
    first = weeks[0].day if span.period.kind == ALL_TIME else span.start.day
    return [week for week in weeks if first <= week.day <= span.end.day]


def _figures(
    history: History, attribution: str, sides: tuple[Target, Target], weeks: list[WeekRow]
) -> Figures:
    """Each week's figures of both sides (None where a side has no row that week)."""
    # One key a query: PostgreSQL then finds each row by the whole primary key, where a list
    # of keys can make it scan every org of every week.
    first, second = (history.series(attribution, side.level, [side.key]) for side in sides)
    return {
        week.day: (
            first.get(week.day, {}).get(sides[0].key),
            second.get(week.day, {}).get(sides[1].key),
        )
        for week in weeks
    }


def _value(row: KeyWeek | None, measure: str) -> float:
    if row is None:
        return 0.0
    return row.share if measure == THIRTY_DAY else row.share_all_time or 0.0


def _points(weeks: list[WeekRow], figures: Figures, measure: str) -> list[Point]:
    """Both shares in each week that has the measure (a side absent that week counts 0)."""
    return [
        Point(
            week.day, _value(figures[week.day][0], measure), _value(figures[week.day][1], measure)
        )
        for week in weeks
        if measure == THIRTY_DAY or week.downloads_all_time_total is not None
    ]


def same_figures(first: Figures, second: Figures) -> bool:
    """Whether two attributions give both sides the same shares every week."""

    def values(row: KeyWeek | None) -> tuple[float, float]:
        return (_value(row, THIRTY_DAY), _value(row, ALL_TIME_MEASURE))

    return all(
        values(a) == values(c) and values(b) == values(d)
        for (a, b), (c, d) in zip(first.values(), second.values(), strict=True)
    )


def _capital(label: str) -> str:
    return "The" + label[3:] if label.startswith("the ") else label


def _versus_chart(
    view: View, sides: tuple[Target, Target], figures: Figures, weeks: list[WeekRow]
) -> Chart | None:
    """Both sides' 30-day share (solid) and all-time share (dashed) in the first view's
    attribution."""
    colours = [
        country_colour(side.key) if side.level == COUNTRY else f"C{index}"
        for index, side in enumerate(sides)
    ]
    if colours[0] == colours[1]:
        colours = ["C0", "C1"]
    lines: list[Series] = []
    for measure, dashed in ((THIRTY_DAY, False), (ALL_TIME_MEASURE, True)):
        points = _points(weeks, figures, measure)
        if len(points) < 2:
            continue
        for index, label in enumerate(view.subjects):
            values = [
                (datetime.combine(p.day, time(), UTC), (p.first, p.second)[index]) for p in points
            ]
            lines.append(Series(f"{label} ({measure})", values, colours[index], dashed))
    if not lines:
        return None
    title = f"{view.subjects[0]} vs {view.names[1]}: share of Hub downloads ({view.attribution})"
    return share_over_time(title, lines)
