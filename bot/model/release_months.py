"""Archived weekly release counts turned into calendar months: pure, no database.

The archive says how many repos each registered org created in each week ``[day, day + 7)``
(``bot.model.hub_week``); it keeps no creation day. A week that spans two months therefore
counts whole in the month that holds most of its seven days, the month of its middle (fourth)
day: the week of 29 Sep 2025 counts in October (four of its days are), so a month's figure is
off by at most three days' releases at each end, never by six. The same rule picks the weeks
of a period: those whose middle day falls in it.

Months inside the counted span that no archived week covers, and weeks missing between two
archived ones (never published, or failed to import), are said, never shown as zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise

MIDDLE = timedelta(days=3)
WEEK = timedelta(days=7)


def month_of(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def week_month(week: date) -> date:
    """The month a week's releases count in: that of its middle day."""
    return month_of(week + MIDDLE)


def in_period(week: date, start: date, end: date) -> bool:
    """Whether a week counts in [start, end): its middle day does."""
    return start <= week + MIDDLE < end


@dataclass(frozen=True)
class MonthCount:
    month: date
    repos: int
    weeks: int
    """Archived weeks counted in the month (0: none is archived)."""
    missing: int
    """Weeks of the month missing between archived ones."""
    so_far: int
    """Repos from the start of the period to the end of this month."""


@dataclass(frozen=True)
class Span:
    """A run of consecutive months, for "months with none: Jan to May 2025"."""

    first: date
    last: date


@dataclass
class ReleaseMonths:
    """A period's releases, month by month, with what the history could not see."""

    months: list[MonthCount]
    """From the first counted week's month to the last counted week's month."""
    weeks: list[date]
    """The archived weeks counted, oldest first."""
    by_org: dict[str, int]
    missing: list[date] = field(default_factory=list)
    """Weeks absent between two archived weeks, inside the period."""
    begins_later: bool = False
    """The history's first week comes after the period's start: earlier days are not counted."""
    ends_earlier: bool = False
    """The history's last week ends before the period does: later days are not counted yet."""

    @property
    def total(self) -> int:
        return sum(month.repos for month in self.months)

    @property
    def first_week(self) -> date:
        return self.weeks[0]

    @property
    def last_week(self) -> date:
        return self.weeks[-1]

    @property
    def covered_until(self) -> date:
        """The day after the last counted week."""
        return self.weeks[-1] + WEEK

    def months_with_none(self) -> list[Span]:
        return _spans([m.month for m in self.months if m.weeks and not m.repos])

    def months_unarchived(self) -> list[Span]:
        return _spans([m.month for m in self.months if not m.weeks])


def release_months(
    counts: Mapping[date, Mapping[str, int]],
    archived: Sequence[date],
    start: date,
    end: date,
) -> ReleaseMonths | None:
    """Month by month, the repos of ``counts`` ({week: {org: repos}}) in [start, end).

    ``archived`` is every complete week of the history (a week with no release of the orgs has
    no entry in ``counts`` but still counts as zero). None when no archived week falls in the
    period.
    """
    weeks = sorted(day for day in set(archived) if in_period(day, start, end))
    if not weeks:
        return None
    everything = sorted(set(archived))
    missing = [day for day in _missing(everything) if in_period(day, start, end)]
    by_month: dict[date, int] = {}
    counted: dict[date, int] = {}
    by_org: dict[str, int] = {}
    for week in weeks:
        month = week_month(week)
        counted[month] = counted.get(month, 0) + 1
        for org, repos in counts.get(week, {}).items():
            by_month[month] = by_month.get(month, 0) + repos
            by_org[org] = by_org.get(org, 0) + repos
    lost: dict[date, int] = {}
    for day in missing:
        lost[week_month(day)] = lost.get(week_month(day), 0) + 1
    months: list[MonthCount] = []
    so_far = 0
    month, last = week_month(weeks[0]), week_month(weeks[-1])
    while month <= last:
        so_far += by_month.get(month, 0)
        months.append(
            MonthCount(
                month, by_month.get(month, 0), counted.get(month, 0), lost.get(month, 0), so_far
            )
        )
        month = next_month(month)
    return ReleaseMonths(
        months=months,
        weeks=weeks,
        by_org=dict(sorted(by_org.items(), key=lambda item: (-item[1], item[0].lower()))),
        missing=missing,
        begins_later=in_period(everything[0] - WEEK, start, end),
        ends_earlier=in_period(everything[-1] + WEEK, start, end),
    )


def _missing(days: Sequence[date]) -> list[date]:
    """Weeks absent between consecutive archived weeks (a gap of two weeks or more; a day's
    drift when the archive moved its weekday is not a missing week)."""
    found = []
    for before, after in pairwise(days):
        day = before + WEEK
        while day + WEEK <= after:
            found.append(day)
            day += WEEK
    return found


def _spans(months: Sequence[date]) -> list[Span]:
    spans: list[Span] = []
    for month in months:
        if spans and next_month(spans[-1].last) == month:
            spans[-1] = Span(spans[-1].first, month)
        else:
            spans.append(Span(month, month))
    return spans
