"""``/share`` over the archived whole-Hub history: a period's shares (``/share cn 2025``) and
head to head (``/share qwen vs meta-llama``).

Every figure comes from the archived weeks (``bot.store.history``, read on the answer's one
connection); ``bot.model.period_shares`` finds a period's downloads, ``bot.model.leads`` who
leads. Answers name the weeks, the archive, the method and the attribution.

Head to head compares families (lineage attribution, org level) when either side is an org,
and publishers when both are countries; ``publisher`` or ``lineage`` at the end says otherwise.
The other attribution follows, unless its figures are the same.

A region (``eu``) is the sum of its countries' rows in each week, and a name that stands for
several orgs (``阿里巴巴``) the sum of its orgs' rows: own repos by publisher, families by
lineage (families by root are disjoint, so theirs add up). The words are those of the live
``/share``: the unregistered authors are a line of their own, never lumped with the registered
orgs of other countries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from bot.answers.charts import Series, country_colour, share_over_time
from bot.answers.message import Answer, Chart
from bot.answers.mrkdwn import echo, escape, inline
from bot.answers.names import (
    CountryName,
    GroupName,
    ModelName,
    OrgName,
    RegionName,
    resolve,
)
from bot.answers.render import render_message
from bot.core.errors import UserError
from bot.core.registry import (
    COUNTRY_NAMES,
    REGION_NAMES,
    REGION_ONLY,
    UNKNOWN_COUNTRY,
    country_name,
    region_of,
)
from bot.model.aggregates import ATTRIBUTIONS, COUNTRY, LINEAGE, ORG, ORG_ROWS_KEPT, PUBLISHER
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
from bot.model.periods import Period, day_label, split_period
from bot.store.history import History, KeyWeek, WeekRow
from bot.store.reader import Reader
from bot.store.snapshots import is_demo_source
from commands.share_groups import group_label
from commands.share_scopes import is_country

MAIN_COUNTRIES = ("CN", "US")
TOP_ORGS = 5
VERSUS = frozenset({"vs", "vs.", "versus"})
ATTRIBUTION_WORDS = {"publisher": PUBLISHER, "lineage": LINEAGE}
FAMILY_WORDS = frozenset({"family", "families"})
PERIODS = "`30d`, `2025`, `2025-Q3`, `since 2025-01-20` or `all-time`"
LOOKS_LIKE_A_PERIOD = re.compile(r"^(\d{4,}([-/.q]\S*)?|\d+d?|since|all-?time)$", re.IGNORECASE)
"""A word meant as a period, checked when the words fail to name a target."""
NOT_A_PERIOD = re.compile(r"^(\d{4}(-?q\d*|-\d{1,2}(-\d{1,2})?)|\d+d?|since)$", re.IGNORECASE)
"""A last word that can only be a malformed period (``2025-13``, ``2025-Q5``, ``20255``, ``7d``,
``since``): no name hubpulse resolves ends with a word of digits."""
THIRTY_DAY, ALL_TIME_MEASURE = "30-day", "all-time"
EXPLAIN = {
    PUBLISHER: "each model counts for the org that uploaded it",
    LINEAGE: "each model counts for the org of its root base model",
}
UNREGISTERED = "Unregistered authors"
REGION_PHRASES = {
    "eu": "the European Union",
    "other": "other countries",
    "unknown": "orgs of no single country",
}
"""Each region as people call it mid-sentence (its name heads an answer)."""
LOWER_PHRASES = frozenset({UNREGISTERED.lower(), *REGION_PHRASES.values()})
"""Labels that start a sentence with a capital letter (org ids never do)."""
NO_HISTORY = (
    "There is no whole-Hub history yet: `hubpulse backfill` imports the public weekly "
    "archive (two years in one command)."
)


ORG_KIND, GROUP, COUNTRY_KIND, REGION = "org", "group", "country", "region"


@dataclass(frozen=True)
class Target:
    """What an answer is about, as the history keys it: an org (its own repos or its family),
    a group of orgs one name stands for, a country (or the unregistered authors, ``ZZ``), or a
    region; a group or a region is the sum of its ``members``' rows."""

    level: str
    key: str
    name: str
    country: str
    registered: bool = True
    kind: str = ORG_KIND
    members: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        """The history's keys summed for this target."""
        return self.members or (self.key,)

    @property
    def plural(self) -> bool:
        """Whether its label takes a plural verb ("the alibaba families lead")."""
        if self.kind == REGION:
            return self.key in ("other", "unknown")
        return self.kind == GROUP or self.key == UNKNOWN_COUNTRY

    def label(self, attribution: str) -> str:
        """As people call it mid-sentence: "the Alibaba Qwen family", "the United States"."""
        if self.kind == REGION:
            return REGION_PHRASES.get(self.key, self.name)
        if self.kind == GROUP:
            return f"the {self.name} {'families' if attribution == LINEAGE else 'orgs'}"
        if self.level == COUNTRY:
            if self.key == UNKNOWN_COUNTRY:
                return UNREGISTERED.lower()
            return f"the {self.name}" if self.name.startswith("United ") else self.name
        return f"the {self.name} family" if attribution == LINEAGE else self.name


# Reading


def _weeks(history: History) -> list[WeekRow]:
    weeks = history.weeks()
    if not weeks:
        raise UserError(NO_HISTORY)
    return weeks


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
            f"{day_label(weeks[0].day)} to {day_label(weeks[-1].day)}; `hubpulse backfill --since "
            f"{period.start.isoformat()}` imports earlier weeks if the archive has them."
        )
    raise UserError(
        f"{period.label.capitalize()} needs an archived week at each end, and the history "
        f"ends with the week of {day_label(weeks[-1].day)}: `hubpulse backfill` imports newer "
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
        name = resolve(
            text,
            reader,
            _snapshot_id(reader) if snapshot_id is None else snapshot_id,
            groups=True,
        )
    except UserError:
        misplaced_period(words, versus)
        archived = _archived_author(reader, words)
        if archived is None:
            raise
        return archived
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
    if isinstance(name, GroupName):
        orgs = tuple(org.org for org in name.orgs)
        return Target(ORG, name.label, name.label, "", kind=GROUP, members=orgs)
    if isinstance(name, RegionName):
        countries = tuple(code for code in COUNTRY_NAMES if region_of(code) == name.region)
        return Target(COUNTRY, name.region, name.name, "", kind=REGION, members=countries)
    assert isinstance(name, CountryName)
    label = UNREGISTERED if name.code == UNKNOWN_COUNTRY else name.name
    return Target(COUNTRY, name.code, label, label, kind=COUNTRY_KIND)


def _archived_author(reader: Reader, words: Sequence[str]) -> Target | None:
    """An author only the archived weeks name: not in the registry, in no live snapshot."""
    if len(words) != 1 or "/" in words[0]:
        return None
    key = reader.weeks.org_named(words[0])
    if key is None:
        return None
    return Target(ORG, key, key, country_name(reader.registry.country_of(key)), registered=False)


def _held(figures: PeriodReader, target: Target) -> None:
    """Refuse a period for an unregistered org that a week it needs has no row of: the
    archive keeps such an org only in the weeks it ranks among the top orgs, so its figures
    there are not known (counting them 0 would make up its growth)."""
    if target.level != ORG or target.registered:
        return
    missing = figures.absent(target.key)
    if not missing:
        return
    held = _weeks_holding(figures.history, target)
    where = f"the weeks it has figures in run from {held}" if held else "no week has figures for it"
    raise UserError(
        f"{echo(target.key)} is not in the org registry, and the archive keeps an unregistered "
        f"author only in the weeks it ranks among the top {ORG_ROWS_KEPT} orgs: the week of "
        f"{day_label(missing[0])} that {figures.span.period.label} needs has none ({where})."
    )


def _weeks_holding(history: History, target: Target) -> str | None:
    found = history.attributions(target.level, target.key).values()
    days = sorted({day for by_day in found for day in by_day})
    return f"{day_label(days[0])} to {day_label(days[-1])}" if days else None


def check_last_word(words: Sequence[str]) -> None:
    """Refuse a malformed period at the end before anything is read."""
    if words and NOT_A_PERIOD.match(words[-1]):
        raise UserError(f"{echo(words[-1])} is not a period hubpulse knows; try {PERIODS}.")


def misplaced_period(words: Sequence[str], versus: bool) -> None:
    """A word that means to be a period but is not one, or is not at the end."""
    for position, word in enumerate(words, start=1):
        if not LOOKS_LIKE_A_PERIOD.match(word):
            continue
        if versus:
            raise UserError(
                f"{echo(word)} is not a target: a period goes at the end, "
                "like `/share cn vs us 2025`."
            )
        if position < len(words):
            raise UserError(
                f"{echo(word)} is not a name: a period goes at the end, like `/share qwen 2025`."
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
    unregistered: dict[str, float]
    """Share of the period's downloads that sits with unregistered authors, by attribution."""
    lost: float
    latest: date
    """The history's latest week (the period may run past it)."""

    @property
    def illustrative(self) -> bool:
        return any(is_demo_source(week.source) for week in self.span.weeks)

    @property
    def ends_early(self) -> bool:
        return self.span.period.end > self.latest and self.span.end.day == self.latest


ByDay = dict[date, dict[str, KeyWeek]]
"""Figures read from the history: by week day, then key."""


class PeriodReader:
    """The figures of one span, read on the answer's connection. The country level (a few
    dozen keys a week) is read whole, both attributions at once; orgs only by key. Each read
    is kept, so an answer never repeats one."""

    def __init__(self, history: History, span: Span[WeekRow]) -> None:
        self.history = history
        self.span = span
        self.ids = [week.id for week in span.needed]
        self._countries: dict[str, ByDay] = {}
        self._read: dict[tuple[str, str, tuple[str, ...] | None], ByDay] = {}

    def _figures(self, attribution: str, level: str, keys: Sequence[str] | None) -> ByDay:
        if level == COUNTRY:
            if not self._countries:
                self._countries = self.history.countries(self.ids)
            return self._countries[attribution]
        wanted = (attribution, level, None if keys is None else tuple(keys))
        if wanted not in self._read:
            self._read[wanted] = self.history.at(self.ids, attribution, level, keys)
        return self._read[wanted]

    def shares(
        self, attribution: str, level: str, keys: Sequence[str] | None = None
    ) -> dict[str, PeriodShare]:
        """Shares of ``keys``, or of every key of the level."""
        figures = self._figures(attribution, level, keys)
        wanted = list(keys) if keys is not None else level_keys(self.span, figures)
        return period_shares(self.span, figures, wanted)

    def of(self, attribution: str, target: Target) -> PeriodShare:
        """A target's downloads in the period: its keys summed (downloads add up over keys
        week by week, so the sum's growth is the sum of their growths)."""
        found = self.shares(attribution, target.level, target.keys).values()
        return PeriodShare(target.key, sum(s.downloads for s in found), sum(s.share for s in found))

    def absent(self, org: str) -> list[date]:
        """The weeks read that have no row of ``org`` in either attribution and may have cut
        it: a week with fewer org rows than ``ORG_ROWS_KEPT`` kept every org, so there it has
        no downloads."""
        held: set[date] = set()
        for attribution in ATTRIBUTIONS:
            held.update(self._figures(attribution, ORG, [org]))
        missing = [week for week in self.span.needed if week.day not in held]
        rows = self.history.org_rows([week.id for week in missing])
        return [week.day for week in missing if rows.get(week.id, 0) >= ORG_ROWS_KEPT]

    def basis(self, reader: Reader, weeks: list[WeekRow]) -> Basis:
        unregistered = {
            attribution: self.shares(attribution, COUNTRY, [UNKNOWN_COUNTRY])[UNKNOWN_COUNTRY].share
            for attribution in ATTRIBUTIONS
        }
        ids = {week.day: week.id for week in self.span.weeks}
        falls = {
            (run.first, run.last): self.history.fall(ids[run.first], ids[run.last])
            for run in self.span.runs
            if run.growth
        }
        gone = lost(self.span, falls, lambda key: reader.registry.get(key) is not None)
        return Basis(self.span, total_downloads(self.span), unregistered, gone, weeks[-1].day)


def period_share(reader: Reader, words: Sequence[str], period: Period) -> Answer:
    """``/share [target] <period>``: shares of the period's downloads."""
    target = _target(reader, words, versus=False) if words else None
    history = reader.weeks
    weeks = _weeks(history)
    figures = PeriodReader(history, _span(weeks, period))
    if target is not None:
        _held(figures, target)
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
    standing = {attribution: figures.of(attribution, target) for attribution in ATTRIBUTIONS}
    if target.kind == GROUP:
        orgs = _top_orgs(reader, figures, list(target.members))
        return render_message(
            "share_period_group.j2", target=target, standing=standing, orgs=orgs, **common
        )
    if target.kind == REGION:
        return _region(reader, figures, target, standing, common)
    if target.level == ORG:
        return render_message("share_period_org.j2", target=target, standing=standing, **common)
    orgs = []
    if target.key != UNKNOWN_COUNTRY:
        keys = [org.org for org in reader.registry if org.country == target.key]
        orgs = _top_orgs(reader, figures, keys)
    return render_message(
        "share_period_country.j2", target=target, standing=standing, orgs=orgs, **common
    )


def _top_orgs(
    reader: Reader, figures: PeriodReader, keys: list[str]
) -> list[tuple[str, str, PeriodShare]]:
    """The largest of some registered orgs by their own repos' downloads in the period."""
    found = []
    for share in [s for s in ranked(figures.shares(PUBLISHER, ORG, keys)) if s.downloads > 0]:
        org = reader.registry.get(share.key)
        found.append((share.key, org.display_name if org else share.key, share))
    return found[:TOP_ORGS]


def _region(
    reader: Reader,
    figures: PeriodReader,
    target: Target,
    standing: dict[str, PeriodShare],
    common: dict[str, object],
) -> Answer:
    """A region: its countries summed, its rank among regions, its countries and top orgs."""
    countries = {attribution: figures.shares(attribution, COUNTRY) for attribution in ATTRIBUTIONS}
    ranks = {
        attribution: _region_rank(countries[attribution], target.key)
        for attribution in ATTRIBUTIONS
    }
    own = [
        (country_name(share.key), share)
        for share in ranked(countries[PUBLISHER])
        if is_country(share.key) and share.key in target.members and share.downloads > 0
    ]
    keys = [org.org for org in reader.registry.in_region(target.key)]
    return render_message(
        "share_period_region.j2",
        target=target,
        standing=standing,
        ranks=ranks,
        countries=own[:TOP_ORGS],
        orgs=_top_orgs(reader, figures, keys),
        **common,
    )


def _region_rank(countries: dict[str, PeriodShare], region: str) -> int:
    """1 + the regions with more downloads in the period (ties by the regions' declared
    order), as ``commands.share_scopes.region_rank`` ranks a snapshot's."""
    downloads: dict[str, float] = dict.fromkeys(REGION_NAMES, 0.0)
    for share in countries.values():
        found = region_of(share.key)
        if found is not None:
            downloads[found] += share.downloads
    order = list(REGION_NAMES)

    def place(name: str) -> tuple[float, int]:
        return (-downloads[name], order.index(name))

    return 1 + sum(1 for other in order if place(other) < place(region))


def _country_lines(shares: dict[str, PeriodShare]) -> list[Line]:
    """CN, US, the next largest country, the registered orgs of every other country, then the
    unregistered authors: each label stands for one figure, as in the live overview."""
    ordered = ranked(shares)
    picked = list(MAIN_COUNTRIES)
    picked += [s.key for s in ordered if is_country(s.key) and s.key not in MAIN_COUNTRIES][:1]
    empty = PeriodShare("", 0.0, 0.0)
    lines = [
        Line(country_name(key), shares.get(key, empty).share, shares.get(key, empty).downloads)
        for key in picked
    ]
    rest = [s for s in ordered if s.key not in picked and s.key != UNKNOWN_COUNTRY and s.downloads]
    if rest:
        count = sum(1 for s in rest if is_country(s.key))
        label = f"{count} more {'country' if count == 1 else 'countries'}" if count else "Others"
        note = "registered orgs"
        if any(s.key in REGION_ONLY for s in rest):
            note += ", some with their region only"
        lines.append(Line(label, sum(s.share for s in rest), sum(s.downloads for s in rest), note))
    unregistered = shares.get(UNKNOWN_COUNTRY, empty)
    lines.append(
        Line(UNREGISTERED, unregistered.share, unregistered.downloads, "not in the org registry")
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
    if (first.level, first.keys) == (second.level, second.keys):
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
    plural: tuple[bool, bool] = (False, False)
    """Whether each side's label takes a plural verb."""

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
    series = [
        history.summed(side.level, side.members)
        if side.members
        else history.attributions(side.level, side.key)
        for side in sides
    ]
    for side, found in zip(sides, series, strict=True):
        if side.level == ORG and not side.registered and not any(found.values()):
            raise UserError(
                f"{echo(side.key)} is not in the org registry, and no archived week has "
                "figures for it: the archive keeps an unregistered author only in the weeks "
                f"it ranks among the top {ORG_ROWS_KEPT} orgs."
            )
    span = _span(weeks, period) if period is not None else None
    shown = _in_view(weeks, span)
    period_reader = PeriodReader(history, span) if span is not None else None
    views: list[View] = []
    figures: dict[str, Figures] = {}
    for attribution in (primary, *(a for a in ATTRIBUTIONS if a != primary)):
        figures[attribution] = _figures(series[0][attribution], series[1][attribution], shown)
        shares = None
        if period_reader is not None:
            shares = (
                period_reader.of(attribution, sides[0]),
                period_reader.of(attribution, sides[1]),
            )
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
                plural=(asked.first.plural, asked.second.plural),
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
    first: dict[date, KeyWeek], second: dict[date, KeyWeek], weeks: list[WeekRow]
) -> Figures:
    """Each week's figures of both sides (None where a side has no row that week)."""
    return {week.day: (first.get(week.day), second.get(week.day)) for week in weeks}


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
    """A label at the start of a sentence: "The United States", "Unregistered authors"; an
    org's id keeps its case."""
    if label.startswith("the ") or label in LOWER_PHRASES:
        return label[:1].upper() + label[1:]
    return label


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
    labels = [
        _chart_label(side, subject) for side, subject in zip(sides, view.subjects, strict=True)
    ]
    lines: list[Series] = []
    for measure, dashed in ((THIRTY_DAY, False), (ALL_TIME_MEASURE, True)):
        points = _points(weeks, figures, measure)
        if len(points) < 2:
            continue
        for index, label in enumerate(labels):
            values = [
                (datetime.combine(p.day, time(), UTC), (p.first, p.second)[index]) for p in points
            ]
            lines.append(Series(f"{label} ({measure})", values, colours[index], dashed))
    if not lines:
        return None
    second = labels[1] if sides[1].kind == GROUP else view.names[1]
    title = f"{labels[0]} vs {second}: share of Hub downloads ({view.attribution})"
    demo = any(is_demo_source(week.source) for week in weeks)
    return share_over_time(title, lines, illustrative=demo)


def _chart_label(side: Target, subject: str) -> str:
    """A side as the chart names it: a group as ``/share <group>``'s chart does."""
    return group_label(side.members) if side.kind == GROUP else subject
