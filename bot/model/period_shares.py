"""Download shares over a period, from the archived weeks of the whole Hub.

The Hub publishes no download history. A period's downloads are found from the archived weeks
at its two ends (the latest week at or before its start, the latest at or before its end):

* **all-time growth**: between two weeks that both carry ``downloadsAllTime``, a key's
  downloads are the growth of its all-time count, and the period's total the growth of the
  whole Hub's; a key's share is its growth over the total growth;
* **30-day windows**: between weeks where either lacks ``downloadsAllTime`` (the archive's
  early weeks), each later week's 30-day count times the days between the two weeks over 30
  (7/30 for consecutive weeks), summed;
* **cumulative** (``all-time``): the all-time count at the latest week that has one.

Runs of each method follow one another, so a period that begins before the archive carried
all-time counts is windows first, then growth; the answer says which weeks each covered.

Growth nets out what disappeared: a deleted or renamed repo takes its all-time count away from
its org (a renamed one adds it again under its new name). ``lost`` finds the orgs whose
all-time count shrank, a lower bound of what was lost that way.

Pure: the weeks and their figures come in as values; ``bot.store.history`` reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from itertools import pairwise
from typing import Generic, Protocol, TypeVar

from bot.model.aggregates import ORG_ROWS_KEPT
from bot.model.periods import ALL_TIME, Period

GROWTH, WINDOWS, CUMULATIVE = "all-time growth", "30-day windows", "cumulative"
WINDOW_DAYS = 30


class Week(Protocol):
    """An archived week's totals (``bot.store.history.WeekRow``)."""

    @property
    def day(self) -> date: ...
    @property
    def source(self) -> str: ...
    @property
    def downloads_total(self) -> int: ...
    @property
    def downloads_all_time_total(self) -> int | None: ...


class Figures(Protocol):
    """One key's figures in one week (``bot.store.history.KeyWeek``)."""

    @property
    def downloads(self) -> float: ...
    @property
    def downloads_all_time(self) -> float | None: ...


W = TypeVar("W", bound=Week)
Level = Mapping[str, Figures]
"""A week's figures by key (the keys the caller read: a few, or a whole level)."""


@dataclass(frozen=True)
class Run:
    """Consecutive weeks counted one way: from the week of ``first`` to the week of ``last``."""

    method: str
    first: date
    last: date
    intervals: int

    @property
    def growth(self) -> bool:
        return self.method == GROWTH


@dataclass(frozen=True)
class Span(Generic[W]):
    """The archived weeks a period's downloads are found from, its first and last included."""

    period: Period
    weeks: tuple[W, ...]
    runs: tuple[Run, ...]
    begins_later: bool
    """No archived week at or before the period's start: counted from the history's first."""

    @property
    def start(self) -> W:
        return self.weeks[0]

    @property
    def end(self) -> W:
        return self.weeks[-1]

    @property
    def cumulative(self) -> bool:
        """``all-time``: one week's all-time counts, no growth."""
        return self.runs[0].method == CUMULATIVE

    @property
    def needed(self) -> list[W]:
        """The weeks whose figures the methods read: growth reads only a run's two ends."""
        days: set[date] = set()
        for run in self.runs:
            if run.method == WINDOWS:
                days.update(w.day for w in self.weeks if run.first < w.day <= run.last)
            else:
                days.update((run.first, run.last))
        return [week for week in self.weeks if week.day in days]

    @cached_property
    def by_day(self) -> dict[date, W]:
        """The weeks by their day (read once per key of a level: kept)."""
        return {week.day: week for week in self.weeks}

    @property
    def sources(self) -> list[str]:
        return sorted({week.source for week in self.weeks})


def find_span(weeks: Sequence[W], period: Period) -> Span[W] | None:
    """The weeks ``period`` is counted from; None when the history has nothing for it.

    ``weeks`` are the complete archived weeks, oldest first. ``all-time`` is the latest week
    with all-time counts, alone; any other period needs two weeks at least.
    """
    if period.kind == ALL_TIME:
        dated = [w for w in weeks if w.downloads_all_time_total is not None]
        at = [w for w in dated if w.day <= period.end]
        if not at:
            return None
        last = at[-1]
        return Span(period, (last,), (Run(CUMULATIVE, last.day, last.day, 0),), False)
    before_end = [w for w in weeks if w.day <= period.end]
    if not before_end:
        return None
    at_start = [w for w in before_end if w.day <= period.start]
    begins_later = not at_start
    first = at_start[-1] if at_start else before_end[0]
    chosen = tuple(w for w in before_end if w.day >= first.day)
    if len(chosen) < 2:
        return None
    return Span(period, chosen, _runs(chosen), begins_later)


def _runs(weeks: Sequence[Week]) -> tuple[Run, ...]:
    runs: list[Run] = []
    for earlier, later in pairwise(weeks):
        both = (
            earlier.downloads_all_time_total is not None
            and later.downloads_all_time_total is not None
        )
        method = GROWTH if both else WINDOWS
        if runs and runs[-1].method == method:
            last = runs[-1]
            runs[-1] = Run(method, last.first, later.day, last.intervals + 1)
        else:
            runs.append(Run(method, earlier.day, later.day, 1))
    return tuple(runs)


def _over(
    span: Span[W],
    thirty: Callable[[W], float],
    all_time: Callable[[W], float],
) -> float:
    """A period's downloads of one key (or of the whole Hub), given its figures per week."""
    by_day = span.by_day
    total = 0.0
    for run in span.runs:
        if run.method == CUMULATIVE:
            total += all_time(by_day[run.last])
        elif run.method == GROWTH:
            total += all_time(by_day[run.last]) - all_time(by_day[run.first])
        else:
            days = [w for w in span.weeks if run.first <= w.day <= run.last]
            for earlier, later in pairwise(days):
                total += thirty(later) * (later.day - earlier.day).days / WINDOW_DAYS
    return total


def total_downloads(span: Span[W]) -> float:
    """The whole Hub's downloads in the span's period."""
    return _over(
        span,
        lambda week: float(week.downloads_total),
        lambda week: float(week.downloads_all_time_total or 0),
    )


def key_downloads(span: Span[W], figures: Mapping[date, Level], key: str) -> float:
    """One key's downloads in the span's period; a key absent from a week counts zero there.

    ``figures`` holds, for each of ``span.needed``, the week's figures by key."""

    def at(week: W) -> Figures | None:
        return figures.get(week.day, {}).get(key)

    def thirty(week: W) -> float:
        found = at(week)
        return float(found.downloads) if found else 0.0

    def all_time(week: W) -> float:
        found = at(week)
        return float(found.downloads_all_time or 0) if found else 0.0

    return _over(span, thirty, all_time)


@dataclass(frozen=True)
class PeriodShare:
    key: str
    downloads: float
    share: float


def period_shares(
    span: Span[W], figures: Mapping[date, Level], keys: Sequence[str]
) -> dict[str, PeriodShare]:
    """Each key's downloads in the period and its share of the period's total (0 when the
    archive shows no growth at all)."""
    total = total_downloads(span)
    found = {}
    for key in keys:
        value = key_downloads(span, figures, key)
        found[key] = PeriodShare(key, value, value / total if total > 0 else 0.0)
    return found


def level_keys(span: Span[W], figures: Mapping[date, Level]) -> list[str]:
    """Every key present in any of the span's weeks read."""
    keys: dict[str, None] = {}
    for week in span.needed:
        keys.update(dict.fromkeys(figures.get(week.day, {})))
    return list(keys)


def ranked(shares: Mapping[str, PeriodShare]) -> list[PeriodShare]:
    """Largest first, ties to the smaller key (as the aggregates rank)."""
    return sorted(shares.values(), key=lambda s: (-s.downloads, s.key))


class Fall(Protocol):
    """How orgs' all-time counts (publisher attribution) fell between two weeks
    (``bot.store.history.Fall``)."""

    @property
    def shrunk(self) -> float:
        """The sum, over the orgs in both weeks, of each one's fall (0 for one that grew)."""

    @property
    def missing(self) -> Mapping[str, float]:
        """The orgs of the earlier week absent from the later, with their earlier counts."""

    @property
    def later_rows(self) -> int:
        """How many org rows the later week kept."""


def lost(
    span: Span[W],
    falls: Mapping[tuple[date, date], Fall],
    registered: Callable[[str], bool],
) -> float:
    """All-time downloads that disappeared over the span's growth runs: for each run, the fall
    of every org whose all-time count shrank between its two weeks (publisher attribution).

    ``falls`` holds each growth run's (first, last) fall. An org absent from the later week
    lost everything when it cannot have been cut from the week's rows: it is registered
    (registered orgs are always kept), or the week kept every org (fewer rows than
    ``ORG_ROWS_KEPT``). A lower bound: an org that lost a repo but grew more shows no loss.
    """
    gone = 0.0
    for run in span.runs:
        if run.method != GROWTH:
            continue
        fall = falls[run.first, run.last]
        complete = fall.later_rows < ORG_ROWS_KEPT
        gone += fall.shrunk
        gone += sum(was for key, was in fall.missing.items() if complete or registered(key))
    return gone
