"""The periods commands take: what each names, and a clear refusal of what is not one."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.errors import UserError
from bot.model.periods import (
    ALL_TIME,
    EARLIEST,
    LAST_30_DAYS,
    QUARTER,
    SINCE,
    YEAR,
    Period,
    split_period,
)

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (("qwen", "30d"), Period(LAST_30_DAYS, date(2026, 11, 3), TODAY, "the last 30 days")),
        (("cn", "2025"), Period(YEAR, date(2025, 1, 1), date(2026, 1, 1), "2025")),
        (("cn", "2026"), Period(YEAR, date(2026, 1, 1), TODAY, "2026")),
        (("cn", "2025-Q3"), Period(QUARTER, date(2025, 7, 1), date(2025, 10, 1), "2025-Q3")),
        (("cn", "2025q4"), Period(QUARTER, date(2025, 10, 1), date(2026, 1, 1), "2025-Q4")),
        (
            ("us", "since", "2025-01-20"),
            Period(SINCE, date(2025, 1, 20), TODAY, "since 20 Jan 2025"),
        ),
        (("us", "SINCE", "2025-01"), Period(SINCE, date(2025, 1, 1), TODAY, "since 1 Jan 2025")),
        (("us", "all-time"), Period(ALL_TIME, EARLIEST, TODAY, "all time")),
    ],
)
def test_a_trailing_period_is_split_from_the_target(words, expected):
    rest, period = split_period(words, TODAY)
    assert period == expected
    assert rest == words[:1]


def test_words_that_name_no_period_are_left_alone():
    assert split_period(("meta-llama",), TODAY) == (("meta-llama",), None)
    assert split_period(("qwen", "vs", "meta-llama"), TODAY) == (("qwen", "vs", "meta-llama"), None)
    assert split_period((), TODAY) == ((), None)
    assert not Period(LAST_30_DAYS, TODAY, TODAY, "").needs_history
    assert Period(YEAR, TODAY, TODAY, "").needs_history


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (("cn", "2031"), "2031 is outside the Hub's history (2022 to 2026)."),
        (("cn", "2019"), "2019 is outside the Hub's history"),
        (("cn", "since", "yesterday"), "`since` takes a date like 2025-01-20"),
        (("cn", "since", "2025-02-30"), "`since` takes a date like 2025-01-20"),
        (("cn", "since", "2027-01-01"), "is not in the past"),
    ],
)
def test_impossible_periods_get_a_one_line_answer(words, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        split_period(words, TODAY)


def test_a_quarter_not_started_is_refused():
    with pytest.raises(UserError, match="has not started yet"):
        split_period(("cn", "2026-Q4"), date(2026, 9, 1))
