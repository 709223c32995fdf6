"""``bot.model.release_months``: weeks to months, by the middle-day rule, with what is missing."""

from __future__ import annotations

from datetime import date, timedelta

from bot.model.release_months import Span, in_period, release_months, week_month

MONDAYS = [date(2025, 9, 1) + timedelta(weeks=k) for k in range(9)]  # 1 Sep to 27 Oct


def test_a_week_counts_in_the_month_of_its_middle_day():
    assert week_month(date(2025, 9, 29)) == date(2025, 10, 1)  # Mon 29 Sep: 5 days in October
    assert week_month(date(2025, 9, 26)) == date(2025, 9, 1)  # Fri 26 Sep: 5 days in September
    assert week_month(date(2025, 9, 27)) == date(2025, 9, 1)  # middle day 30 Sep
    assert in_period(date(2024, 12, 30), date(2025, 1, 1), date(2026, 1, 1))
    assert not in_period(date(2025, 12, 29), date(2025, 1, 1), date(2026, 1, 1))


def test_months_totals_running_totals_and_zero_months():
    counts = {MONDAYS[0]: {"a": 2}, MONDAYS[5]: {"a": 1, "b": 4}}
    found = release_months(counts, MONDAYS, date(2025, 9, 1), date(2025, 11, 1))
    assert found is not None
    assert [(m.month.month, m.repos, m.weeks, m.so_far) for m in found.months] == [
        (9, 2, 4, 2),  # 1, 8, 15, 22 Sep (29 Sep counts in October)
        (10, 5, 5, 7),
    ]
    assert found.total == 7
    assert found.by_org == {"b": 4, "a": 3}
    assert found.months_with_none() == []
    assert not found.missing
    assert not found.begins_later
    assert not found.ends_earlier


def test_missing_weeks_and_months_no_week_covers():
    archived = [MONDAYS[0], MONDAYS[1], MONDAYS[7], MONDAYS[8]]  # 15 Sep to 13 Oct missing
    found = release_months({}, archived, date(2025, 9, 1), date(2025, 11, 1))
    assert found is not None
    assert found.missing == MONDAYS[2:7]
    assert [(m.month.month, m.weeks, m.missing) for m in found.months] == [(9, 2, 2), (10, 2, 3)]
    assert found.months_with_none() == [Span(date(2025, 9, 1), date(2025, 10, 1))]


def test_a_month_with_no_archived_week_is_not_a_month_with_none():
    archived = [date(2025, 1, 6), date(2025, 3, 3)]
    found = release_months(
        {date(2025, 3, 3): {"a": 1}}, archived, date(2025, 1, 1), date(2025, 4, 1)
    )
    assert found is not None
    assert [(m.month.month, m.weeks) for m in found.months] == [(1, 1), (2, 0), (3, 1)]
    assert found.months_unarchived() == [Span(date(2025, 2, 1), date(2025, 2, 1))]
    assert found.months_with_none() == [Span(date(2025, 1, 1), date(2025, 1, 1))]


def test_a_day_of_drift_is_not_a_missing_week():
    archived = [date(2025, 9, 1), date(2025, 9, 9), date(2025, 9, 16)]  # Monday, then Tuesdays
    found = release_months({}, archived, date(2025, 9, 1), date(2025, 10, 1))
    assert found is not None
    assert found.missing == []


def test_the_history_starting_late_or_ending_early_is_said():
    found = release_months({}, MONDAYS[2:4], date(2025, 9, 1), date(2025, 12, 1))
    assert found is not None
    assert found.begins_later
    assert found.ends_earlier
    assert found.covered_until == MONDAYS[4]


def test_no_week_in_the_period():
    assert release_months({}, MONDAYS, date(2024, 1, 1), date(2025, 1, 1)) is None
    assert release_months({}, [], date(2024, 1, 1), date(2025, 1, 1)) is None
