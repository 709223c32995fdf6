"""``/share`` over the archived whole-Hub history: a period's shares and head to head, checked
against pandas on the same parquet files (``tests.share_history_world``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.answers.render import downloads, percent
from bot.core.clock import FrozenClock
from bot.core.errors import UserError
from bot.core.registry import Registry
from bot.ingest.archive import LocalArchive
from bot.ingest.backfill import backfill
from bot.model.leads import FIRST, SECOND, Point, compare
from bot.model.period_shares import CUMULATIVE, GROWTH, WINDOWS, find_span
from bot.model.periods import split_period
from bot.store.history import History, KeyWeek
from commands import share
from commands.share_history import NO_HISTORY, PeriodReader, same_figures
from tests.fixtures_cache import context as live_context
from tests.fixtures_cache import world_engine
from tests.hubworld import small_registry
from tests.share_history_world import (
    DAYS,
    LABEL,
    NOW,
    Files,
    ask,
    checkouts,
    history_engine,
    import_archive,
    lead_changes,
    write_archive,
)

PNG = b"\x89PNG\r\n\x1a\n"
TODAY = NOW.date()


@pytest.fixture(scope="module")
def registry() -> Registry:
    return small_registry()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_archive(tmp_path_factory.mktemp("archive"))


@pytest.fixture(scope="module")
def files(archive: Path, registry: Registry) -> Files:
    return Files(archive, registry)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, archive: Path, registry: Registry
) -> Iterator[Engine]:
    engine = history_engine(tmp_path_factory.mktemp("history"), archive, registry)
    yield engine
    engine.dispose()


def refused(engine: Engine, text: str, registry: Registry) -> str:
    with pytest.raises(UserError) as caught:
        ask(engine, text, registry)
    message = caught.value.message
    assert "\n" not in message
    assert len(message) < 300
    return message


def period_of(words: str) -> tuple[date, date]:
    _, period = split_period(tuple(words.split()), TODAY)
    assert period is not None
    return period.start, period.end


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


# A period's shares


def test_cn_2025_mixes_windows_then_growth_as_pandas_does(world, files, registry):
    text = ask(world, "cn 2025", registry).text
    start, end = period_of("2025")
    figures = {}
    for attribution in ("publisher", "lineage"):
        by_country, total = files.period(start, end, attribution, "country")
        figures[attribution] = (by_country["CN"], total, by_country["ZZ"] / total)
    cn, total, unknown = figures["publisher"]
    assert (
        f"• By publisher (models its orgs uploaded): *{percent(cn / total)}* of the period's "
        f"downloads · {downloads(cn)}"
    ) in text
    cn, total, lineage_unknown = figures["lineage"]
    assert f"• By lineage (models built on its bases): *{percent(cn / total)}*" in text
    orgs, total = files.period(start, end, "publisher", "org")
    assert f"• Alibaba Qwen (`Qwen`): {percent(orgs['Qwen'] / total)}" in text
    assert f"• DeepSeek (`deepseek-ai`): {percent(orgs['deepseek-ai'] / total)}" in text
    # The weeks, the archive, both methods, what was not attributed and what was lost.
    assert (
        f"Period 2025: the archived weeks of 30 Dec 2024 to 29 Dec 2025 (`{LABEL}`), every "
        f"model on the Hub: {downloads(total)} in the period."
    ) in text
    assert "30 Dec 2024 to 3 Feb 2025: those weeks have no all-time counts" in text
    assert "× 7/30) over 5 weeks" in text
    assert "3 Feb 2025 to 29 Dec 2025: the growth of all-time downloads" in text
    assert (
        f"Unregistered authors (not in the org registry) hold {percent(unknown)} of the "
        f"period's downloads by publisher, {percent(lineage_unknown)} by lineage"
    ) in text
    assert "other/unknown" not in text.lower()
    assert f"At least {downloads(files.lost(start, end))} counted at the start" in text


@pytest.mark.parametrize("period", ["2025", "2025-Q3", "since 2025-03-10", "2024-Q4"])
@pytest.mark.parametrize("attribution", ["publisher", "lineage"])
@pytest.mark.parametrize("level", ["country", "org"])
def test_every_key_and_total_equals_pandas(world, files, registry, period, attribution, level):
    start, end = period_of(period)
    expected, total = files.period(start, end, attribution, level)
    _, asked = split_period(tuple(period.split()), TODAY)
    assert asked is not None
    history = History(world.connect)
    span = find_span(history.weeks(), asked)
    assert span is not None
    found = PeriodReader(history, span).shares(attribution, level)
    assert set(found) == set(expected.index)
    for key, value in expected.items():
        assert found[key].downloads == pytest.approx(value, rel=1e-9)
        assert found[key].share == pytest.approx(value / total, rel=1e-9)


def test_qwen_2025_q3_own_repos_and_family_from_all_time_growth(world, files, registry):
    text = ask(world, "qwen 2025-Q3", registry).text
    start, end = period_of("2025-Q3")
    own, total = files.period(start, end, "publisher", "org")
    family, _ = files.period(start, end, "lineage", "org")
    assert "*Alibaba Qwen: share of Hub downloads, 2025-Q3*" in text
    assert (
        f"• Own repos (publisher attribution): *{percent(own['Qwen'] / total)}* of the period's "
        f"downloads · {downloads(own['Qwen'])}"
    ) in text
    assert f"(lineage attribution): *{percent(family['Qwen'] / total)}*" in text
    assert "the archived weeks of 30 Jun 2025 to 29 Sep 2025" in text
    assert "30 Jun 2025 to 29 Sep 2025: the growth of all-time downloads" in text
    assert "30-day windows" not in text
    # someone/llama-ft was renamed someone2/llama-ft in August: someone's count is gone.
    assert f"At least {downloads(files.lost(start, end))} counted at the start" in text


def test_since_a_day_gives_the_country_overview(world, files, registry):
    text = ask(world, "since 2025-03-10", registry).text
    start, end = period_of("since 2025-03-10")
    assert "*Share of Hub downloads by country, since 10 Mar 2025*" in text
    for attribution in ("publisher", "lineage"):
        by_country, total = files.period(start, end, attribution, "country")
        section = text[text.index(f"*By {attribution}*") :]
        for label, key in (("China", "CN"), ("United States", "US"), ("France", "FR")):
            assert f"• {label}: *{percent(by_country[key] / total)}*" in section
        # Only three countries have registered orgs here: no "more countries" line, and the
        # unregistered authors on a line of their own.
        assert set(by_country.index) == {"CN", "US", "FR", "ZZ"}
        assert "more countr" not in section
        unregistered = by_country["ZZ"] / total
        assert (
            f"• Unregistered authors: *{percent(unregistered)}* · {downloads(by_country['ZZ'])} "
            "· not in the org registry"
        ) in section
    assert "Other/unknown" not in text
    assert "the archived weeks of 10 Mar 2025 to 12 Jan 2026" in text
    assert "The latest archived week is that of 12 Jan 2026" in text


def test_all_time_is_the_cumulative_count_at_the_latest_week(world, files, registry):
    text = ask(world, "all-time", registry).text
    latest = DAYS[-1]
    for attribution in ("publisher", "lineage"):
        by_country = files.by_key(latest, attribution, "country", "downloadsAllTime")
        total = files.total(latest, "downloadsAllTime")
        section = text[text.index(f"*By {attribution}*") :]
        assert f"• China: *{percent(by_country['CN'] / total)}*" in section
    assert (
        f"All-time downloads of every model on the Hub as of the archived week of 12 Jan 2026 "
        f"(`{LABEL}`): {downloads(files.total(latest, 'downloadsAllTime'))} in all."
    ) in text
    assert "gone by the end" not in text
    qwen = ask(world, "qwen all-time", registry).text
    orgs = files.by_key(latest, "publisher", "org", "downloadsAllTime")
    share_of = orgs["Qwen"] / files.total(latest, "downloadsAllTime")
    assert f"*{percent(share_of)}* of all-time downloads" in qwen


def test_weeks_without_all_time_counts_fall_back_on_30_day_windows(world, files, registry):
    text = ask(world, "cn 2024-Q4", registry).text
    start, end = period_of("2024-Q4")
    by_country, total = files.period(start, end, "publisher", "country")
    assert f"*{percent(by_country['CN'] / total)}* of the period's downloads" in text
    # The history begins on 2 Dec 2024, after the period's start: counted from there.
    assert "the archived weeks of 2 Dec 2024 to 30 Dec 2024" in text
    assert "the sum of 30-day windows (each week's 30-day downloads × 7/30) over 4 weeks" in text
    assert "The history begins with the week of 2 Dec 2024: 2024-Q4 is counted from there." in text
    assert "growth of all-time" not in text
    assert "gone by the end" not in text  # no all-time counts, so no loss to see


# Head to head


def test_qwen_vs_meta_llama_crossing_weeks_as_pandas_finds_them(world, files, registry):
    answer = ask(world, "qwen vs meta-llama", registry, want_chart=True)
    text = answer.text
    assert "*The Alibaba Qwen family vs the Meta Llama family*" in text
    assert text.index("*By lineage*") < text.index("*By publisher*")  # families first
    for attribution, names in (
        ("lineage", ("The Alibaba Qwen family", "the Meta Llama family")),
        ("publisher", ("Alibaba Qwen", "Meta Llama")),
    ):
        section = text[text.index(f"*By {attribution}*") :]
        for column, measure in (("downloads", "30-day"), ("downloadsAllTime", "all-time")):
            qwen = files.shares(attribution, "org", "Qwen", column)
            llama = files.shares(attribution, "org", "meta-llama", column)
            ((day, leader),) = lead_changes(qwen, llama)
            assert leader == 0
            assert (
                f"{names[0]} passed {names[1]} in {measure} downloads in the week of {_day(day)}"
            ) in section
            now = DAYS[-1]
            gap = (qwen[now] - llama[now]) * 100
            assert (
                f"week of 12 Jan 2026: {names[0].replace('The', 'the')} *{percent(qwen[now])}*, "
                f"{names[1]} *{percent(llama[now])}*. {names[0]} leads by {gap:.1f} pp"
            ) in section
    # Known by construction: 30-day in the spring, all-time in the autumn.
    assert "in 30-day downloads in the week of 24 Mar 2025" in text
    assert "in all-time downloads in the week of 17 Nov 2025" in text
    assert f"59 archived weeks of `{LABEL}` (the weeks of 2 Dec 2024 to 12 Jan 2026)" in text
    assert answer.chart is not None
    assert answer.chart.png.startswith(PNG)
    assert "(lineage)" in answer.chart.title
    assert "The Meta Llama family (all-time)" in answer.chart.alt_text


def test_cn_vs_us_compares_publishers_first(world, files, registry):
    text = ask(world, "cn vs us", registry).text
    assert "*China vs the United States*" in text
    assert text.index("*By publisher*") < text.index("*By lineage*")
    for attribution in ("publisher", "lineage"):
        section = text[text.index(f"*By {attribution}*") :]
        cn = files.shares(attribution, "country", "CN", "downloads")
        us = files.shares(attribution, "country", "US", "downloads")
        ((day, _),) = lead_changes(cn, us)
        assert f"China passed the United States in 30-day downloads in the week of {_day(day)}" in (
            section
        )
    lineage_first = ask(world, "china versus united states lineage", registry).text
    assert lineage_first.index("*By lineage*") < lineage_first.index("*By publisher*")


def test_cn_vs_us_2025_is_restricted_to_the_period(world, files, registry):
    text = ask(world, "cn vs us 2025", registry).text
    start, end = period_of("2025")
    by_country, total = files.period(start, end, "publisher", "country")
    assert (
        f"• *2025*: China *{percent(by_country['CN'] / total)}*, the United States "
        f"*{percent(by_country['US'] / total)}* of the period's downloads"
    ) in text
    assert "53 archived weeks" in text
    assert "(the weeks of 30 Dec 2024 to 29 Dec 2025)" in text
    assert "• *30-day downloads*, week of 29 Dec 2025" in text
    assert "• *All-time downloads*, week of 29 Dec 2025" in text
    assert "Period 2025: the archived weeks of 30 Dec 2024 to 29 Dec 2025" in text


def test_the_attribution_and_period_come_last_in_either_order(world, registry):
    text = ask(world, "deepseek-ai vs mistralai publisher 2025-Q3", registry).text
    assert text.index("*By publisher*") < text.index("*By lineage*")
    assert "DeepSeek led in every archived week since that of 30 Jun 2025." in text
    assert ask(world, "deepseek-ai vs mistralai 2025-Q3 by publisher", registry).text == text
    assert "*2025-Q3*" in text


def test_an_attribution_with_the_same_figures_is_said_in_one_line():
    row = KeyWeek(1, 10.0, 0.1, 1, 100.0, 0.2)
    other = KeyWeek(1, 20.0, 0.2, 1, 100.0, 0.2)
    day = date(2025, 1, 6)
    assert same_figures({day: (row, None)}, {day: (row, None)})
    assert not same_figures({day: (row, None)}, {day: (other, None)})


# What is refused, in one line


def test_no_history_says_how_to_get_it(sqlite_engine, registry):
    for text in ("cn 2025", "qwen vs meta-llama", "all-time", "since 2025-01-20"):
        assert refused(sqlite_engine, text, registry) == NO_HISTORY
    assert "hubpulse backfill" in NO_HISTORY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("qwen vs", "Name a target on each side of `vs`"),
        ("vs", "Name a target on each side of `vs`"),
        ("vs meta-llama", "Name a target on each side of `vs`"),
        ("a vs b vs c", "compares two targets at a time"),
        ("qwen vs qwen", "Both sides are the Alibaba Qwen family"),
        ("cn 2099", "2099 is outside the Hub's history (2022 to 2026)."),
        ("cn vs us 2099", "2099 is outside the Hub's history"),
        ("cn 2023", "No archived week covers 2023: the history has the weeks of 2 Dec 2024"),
        ("cn since 2026-01-15", "needs an archived week at each end"),
        ("qwen 2025-13", "`2025-13` is not a period hubpulse knows"),
        ("qwen 2025-Q5", "`2025-Q5` is not a period hubpulse knows"),
        ("qwen 20255", "`20255` is not a period hubpulse knows"),
        ("qwen 7", "`7` is not a period hubpulse knows"),
        ("cn since", "`since` is not a period"),
        ("cn 2025 vs us", "`2025` is not a target: a period goes at the end"),
        ("qwn vs meta-llama", "no org or model called `qwn`; did you mean `Qwen`"),
    ],
)
def test_malformed_input_gets_one_line(world, registry, text, expected):
    assert expected in refused(world, text, registry)


@pytest.mark.parametrize(
    "hostile",
    [
        "<!channel> vs us",
        "us vs <@U123> & <!here> 2025",
        "z" * 10_000 + " vs cn",
        "cn vs " + "z" * 10_000,
        "\u202e<b> 2025",
        "<script>alert(1)</script> all-time",
        "*bold* vs _it_ vs `code`",
    ],
)
def test_hostile_input_is_escaped_in_one_line(world, registry, hostile):
    message = refused(world, hostile, registry)
    assert "<" not in message
    assert "\u202e" not in message


def test_a_model_takes_no_period_and_no_head_to_head(tmp_path):
    live = world_engine(tmp_path / "live.db")
    try:
        with pytest.raises(UserError, match="Periods are for orgs, families and countries"):
            share.COMMAND.run("deepcogito/cogito-v2.1 2025", live_context(live))
        with pytest.raises(UserError, match="not models"):
            share.COMMAND.run("deepcogito/cogito-v2.1 vs qwen", live_context(live))
        # 30d is today's answer from the live snapshot, unchanged.
        assert (
            share.COMMAND.run("qwen 30d", live_context(live)).text
            == share.COMMAND.run("qwen", live_context(live)).text
        )
    finally:
        live.dispose()


def test_demo_weeks_are_labelled_illustrative(tmp_path, sqlite_engine, registry):
    root = write_archive(tmp_path / "demo", range(9, 12))
    archive = LocalArchive(root)
    archive.label = "demo archive"
    assert not backfill(sqlite_engine, archive, registry, clock=FrozenClock(NOW)).failed
    for text in ("cn since 2025-02-03", "qwen vs meta-llama"):
        assert "*illustrative demo data*" in ask(sqlite_engine, text, registry).text


# One connection per answer, on both databases


@pytest.mark.parametrize(
    ("text", "want_chart"),
    [
        ("cn 2025", False),
        ("qwen 2025-Q3", False),
        ("since 2025-03-10", False),
        ("all-time", False),
        ("qwen vs meta-llama", True),
        ("cn vs us 2025", True),
    ],
)
def test_an_answer_checks_out_one_connection(world, registry, text, want_chart):
    assert checkouts(world, text, registry, want_chart=want_chart) == 1


def test_the_same_answers_on_each_database(engine, archive, files, registry):
    import_archive(engine, archive, registry)
    start, end = period_of("2025")
    by_country, total = files.period(start, end, "publisher", "country")
    text = ask(engine, "cn 2025", registry).text
    assert f"*{percent(by_country['CN'] / total)}* of the period's downloads" in text
    versus = ask(engine, "qwen vs meta-llama", registry).text
    assert "in all-time downloads in the week of 17 Nov 2025" in versus


# The pure parts


def test_a_tie_keeps_the_leader_until_one_is_strictly_ahead():
    days = [date(2025, 1, d) for d in (6, 13, 20, 27)]
    lead = compare(
        [
            Point(days[0], 0.2, 0.1),
            Point(days[1], 0.15, 0.15),
            Point(days[2], 0.1, 0.2),
            Point(days[3], 0.1, 0.2),
        ]
    )
    assert lead is not None
    ((change,),) = (lead.changes,)
    assert (change.day, change.previous_day, change.leader) == (days[2], days[0], SECOND)
    assert lead.now.leader == SECOND
    assert lead.gap == pytest.approx(0.1)
    level = compare([Point(days[0], 0.1, 0.1), Point(days[1], 0.3, 0.1)])
    assert level is not None
    assert not level.changes
    assert level.led_throughout is None
    alone = compare([Point(days[0], 0.3, 0.1)])
    assert alone is not None
    assert alone.led_throughout == FIRST
    assert compare([]) is None


def test_spans_and_their_methods(world):
    weeks = History(world.connect).weeks()

    def span(words: str):
        _, period = split_period(tuple(words.split()), TODAY)
        assert period is not None
        return find_span(weeks, period)

    exact = span("since 2025-02-03")
    assert exact is not None
    assert exact.start.day == date(2025, 2, 3)
    assert [run.method for run in exact.runs] == [GROWTH]
    assert [w.day for w in exact.needed] == [date(2025, 2, 3), date(2026, 1, 12)]
    mixed = span("2025")
    assert mixed is not None
    assert [r.method for r in mixed.runs] == [WINDOWS, GROWTH]
    cumulative = span("all-time")
    assert cumulative is not None
    assert cumulative.cumulative
    assert [run.method for run in cumulative.runs] == [CUMULATIVE]
    assert span("2023") is None  # before the history
    assert span("since 2026-01-13") is None  # one week: no growth to measure
    _, all_time = split_period(("all-time",), TODAY)
    assert all_time is not None
    assert find_span(weeks[:9], all_time) is None  # no week with all-time counts
