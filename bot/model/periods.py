"""Periods people ask about (``30d``, ``2025``, ``2025-Q3``, ``since 2025-01-20``, ``all-time``)
and how a period's downloads are found from weekly whole-Hub history.

The Hub publishes no download history: a period's downloads are the growth of
``downloadsAllTime`` between the archived weeks at its two ends. Weeks from before the archive
carried ``downloadsAllTime`` fall back on the 30-day windows (each week's 30-day count times
7/30, summed), and the answer says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.errors import UserError

LAST_30_DAYS, YEAR, QUARTER, SINCE, ALL_TIME = "30d", "year", "quarter", "since", "all-time"
EARLIEST = date(2022, 3, 2)
"""The Hub's oldest creation date (repos older than that all show it)."""

_QUARTER = re.compile(r"^(\d{4})-?q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})$")
_MONTH = re.compile(r"^(\d{4}-\d{2})$")


@dataclass(frozen=True)
class Period:
    """[start, end) in days; ``kind`` says how it was asked for, ``label`` how answers say it."""

    kind: str
    start: date
    end: date
    label: str

    @property
    def needs_history(self) -> bool:
        """Whether the answer comes from the weekly history (all but the latest 30 days)."""
        return self.kind != LAST_30_DAYS


def parse_period(words: list[str], today: date) -> Period | None:
    """The period the trailing words of a command name, or None when they name none.

    ``words`` are lower-cased; the caller removes the words this consumed (see ``split_period``).
    """
    text = " ".join(words)
    if text in ("30d", "30-day", "30days"):
        return Period(LAST_30_DAYS, today - timedelta(days=30), today, "the last 30 days")
    if text in ("all-time", "alltime"):
        return Period(ALL_TIME, EARLIEST, today, "all time")
    if (matched := _YEAR.match(text)) is not None:
        year = int(matched.group(1))
        _check_year(year, today)
        return Period(YEAR, date(year, 1, 1), min(date(year + 1, 1, 1), today), str(year))
    if (matched := _QUARTER.match(text)) is not None:
        year, quarter = int(matched.group(1)), int(matched.group(2))
        _check_year(year, today)
        start = date(year, 3 * quarter - 2, 1)
        end = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
        if start > today:
            raise UserError(f"{year}-Q{quarter} has not started yet.")
        return Period(QUARTER, start, min(end, today), f"{year}-Q{quarter}")
    if words[:1] == ["since"] and len(words) == 2:
        start = _since(words[1])
        if start >= today:
            raise UserError(f"{start:%d %b %Y} is not in the past.")
        return Period(SINCE, start, today, f"since {day_label(start)}")
    return None


def day_label(day: date) -> str:
    """A day as answers write it: "5 Jan 2026"."""
    return f"{day.day} {day:%b %Y}"


def split_period(words: tuple[str, ...], today: date) -> tuple[tuple[str, ...], Period | None]:
    """(the other words, the period) from a command's words: the period is the last word, or
    the last two for ``since <date>``."""
    lowered = [word.lower() for word in words]
    if len(words) >= 2 and lowered[-2] == "since":
        period = parse_period(lowered[-2:], today)
        if period is not None:
            return words[:-2], period
    if words:
        period = parse_period(lowered[-1:], today)
        if period is not None:
            return words[:-1], period
    return words, None


def _check_year(year: int, today: date) -> None:
    if year < EARLIEST.year or year > today.year:
        raise UserError(f"{year} is outside the Hub's history ({EARLIEST.year} to {today.year}).")


def _since(text: str) -> date:
    try:
        if _DAY.match(text):
            return max(date.fromisoformat(text), EARLIEST)
        if _MONTH.match(text):
            return max(date.fromisoformat(f"{text}-01"), EARLIEST)
    except ValueError:
        pass
    raise UserError("`since` takes a date like 2025-01-20 (or a month like 2025-01).")
