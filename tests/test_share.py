"""``/share`` on the hand-made world, where every share is known by construction."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine, event

from bot.answers.message import Answer
from bot.answers.render import percent, points
from bot.core.errors import EmptyCacheError, UserError
from bot.core.registry import load_registry
from bot.store.reader import Reader
from commands import share
from commands.base import Context
from tests.fixtures_cache import (
    NOW,
    context,
    downloads,
    publisher_country_shares,
    specs,
    store_world,
    top_total,
    world_engine,
)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = world_engine(tmp_path_factory.mktemp("share") / "hub.db")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def one_week(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = world_engine(tmp_path_factory.mktemp("share1") / "hub.db", weeks=1)
    yield engine
    engine.dispose()


def ask(engine: Engine, text: str = "", **kwargs) -> Answer:
    answer = share.COMMAND.run(text, context(engine, **kwargs))
    assert len(answer.blocks) <= 50
    for block in answer.blocks:
        Block.parse(block).validate_json()
    return answer


def _section(text: str, title: str) -> str:
    start = text.index(title)
    end = text.find("*By ", start + 1)
    return text[start : end if end > 0 else None]


def _percentages(section: str) -> list[float]:
    return [float(value) for value in re.findall(r"^• [^:]+: \*([\d.]+)%\*", section, re.M)]


def _org_downloads(org: str, week: int = 1) -> int:
    return sum(downloads(s, week) for s in specs(week) if s.in_top and s.id.split("/")[0] == org)


def test_overview_shares_sum_to_100_in_both_attributions(world):
    text = ask(world).text
    for title in ("*By publisher*", "*By lineage*"):
        values = _percentages(_section(text, title))
        assert len(values) == 4
        assert sum(values) == pytest.approx(100, abs=0.2)


def test_overview_gives_china_us_the_next_largest_then_the_rest(world):
    text = ask(world).text
    publisher = _section(text, "*By publisher*")
    labels = re.findall(r"^• ([^:]+):", publisher, re.M)
    assert labels == ["China", "United States", "France", "Unregistered authors"]
    expected = publisher_country_shares(1)
    before = publisher_country_shares(0)
    assert f"• China: *{percent(expected['CN'])}* ({points(expected['CN'] - before['CN'])})" in (
        publisher
    )
    assert f"• United States: *{percent(expected['US'])}*" in publisher
    assert "Changes are against the snapshot of 23 Feb 2026." in text
    assert f"Shares are of the top {len([s for s in specs(1) if s.in_top])} models' 30-day" in text
    assert "Hub data as of 2 Mar 2026 09:00 UTC" in text
    assert "older than two days" not in text


def test_lineage_attribution_counts_derivatives_by_their_root(world):
    lineage = _section(ask(world).text, "*By lineage*")
    # CN roots: all Qwen models, the third-party GGUF of Qwen, half of the Qwen/Llama merge,
    # DeepSeek and everything built on it (cogito in the US, the remix in France).
    cn = (
        _org_downloads("Qwen")
        + 1000
        + 300 / 2
        + _org_downloads("deepseek-ai")
        + _org_downloads("deepcogito")
        + _org_downloads("mistralai")
        - 600  # Mistral-7B is a French root
    )
    assert f"• China: *{percent(cn / top_total())}*" in lineage


def test_with_one_snapshot_there_is_no_change_and_no_chart(one_week):
    answer = ask(one_week, want_chart=True)
    assert "No snapshot a week earlier" in answer.text
    assert " pp" not in answer.text
    assert answer.chart is None


def test_two_snapshots_give_a_share_over_time_chart(world):
    answer = ask(world, want_chart=True)
    assert answer.chart is not None
    assert answer.chart.png.startswith(PNG)
    assert "China" in answer.chart.alt_text
    assert ask(world).chart is None  # want_chart=False never draws


def test_org_share_rank_change_family_and_top_models(world):
    answer = ask(world, "qwen", want_chart=True)
    text = answer.text
    own = _org_downloads("Qwen") / top_total()
    own_before = _org_downloads("Qwen", 0) / top_total(0)
    assert (
        f"• Own repos: *{percent(own)}* of downloads ({points(own - own_before)}), rank *#1*"
        in (text)
    )
    family = (_org_downloads("Qwen") + 1000 + 150) / top_total()
    assert f"third-party derivatives included: *{percent(family)}*" in text
    assert "China" in text
    tops = re.findall(r"^• `([^`]+)`", text, re.M)
    assert tops == [
        "Qwen/Qwen2.5-7B",
        "Qwen/Qwen2.5-7B-Instruct",
        "Qwen/Qwen3-8B",
        "Qwen/Qwen3-8B-GGUF",
    ]
    assert answer.chart is not None
    assert answer.chart.png.startswith(PNG)


def test_model_share_weekly_downloads_and_family(world):
    text = ask(world, "deepcogito/cogito-v2.1").text
    assert "`deepcogito/cogito-v2.1` · Deep Cogito · United States" in text
    assert f"*400*, *{percent(400 / top_total())}* of the snapshot's downloads" in text
    # all-time grew by a quarter of the 30-day count over exactly seven days
    assert "Last week: 100 downloads (measured from the all-time count)" in text
    assert "Built on: `deepseek-ai/DeepSeek-V3-Base` (finetune)" in text
    assert "Family: *DeepSeek*" in text


def test_a_model_outside_the_top_n_has_no_share(world):
    text = ask(world, "orphan/child").text
    assert "outside the top" in text
    assert "not in the share denominator" in text


def test_country_share_lists_its_registered_orgs(world):
    text = ask(world, "china").text
    expected = publisher_country_shares(1)["CN"]
    assert f"By publisher (models its orgs uploaded): *{percent(expected)}*" in text
    orgs = re.findall(r"^• ([^(]+) \(`", text, re.M)
    assert orgs == ["Alibaba Qwen", "DeepSeek"]
    assert ask(world, "cn").text == text


def test_unregistered_authors_list_the_largest_of_them(world):
    text = ask(world, "unregistered").text
    assert "Top unregistered authors" in text
    assert "rank" not in text  # they are not a country
    assert "(`someone`)" in text
    assert "Qwen" not in text


def test_public_posts_in_channel(world):
    assert ask(world, "qwen public").in_channel is True
    assert ask(world, "public").in_channel is True
    assert ask(world, "qwen").in_channel is False


def test_stale_data_is_flagged(world):
    text = ask(world, now=NOW + timedelta(days=3)).text
    assert ":warning: This data is 3 days old (older than two days)" in text


def test_empty_cache_says_how_to_fill_it(sqlite_engine):
    with pytest.raises(EmptyCacheError):
        share.COMMAND.run("", Context(Reader(sqlite_engine, load_registry()), sqlite_engine))


def test_unknown_names_get_suggestions(world):
    with pytest.raises(UserError, match=r"no org or model called `qwn`; did you mean `Qwen`"):
        ask(world, "qwn")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025 qwen", "`2025` is not a name: a period goes at the end, like `/share qwen 2025`."),
        ("qwen 20255", "`20255` is not a period hubpulse knows"),
    ],
)
def test_a_misplaced_or_malformed_period_is_named_with_the_usage(world, text, expected):
    with pytest.raises(UserError) as caught:
        ask(world, text)
    assert caught.value.message.startswith(expected)
    assert "Usage: `/share [org | family | model | country | region] [vs another] [period]`" in (
        caught.value.message
    )


@pytest.mark.parametrize("hostile", ["<!channel>", "<@U123> & <!here>", "z" * 10_000, "\u202e<b>"])
def test_hostile_input_is_escaped_never_a_trace(world, hostile):
    with pytest.raises(UserError) as caught:
        ask(world, hostile)
    assert "<" not in caught.value.message
    assert len(caught.value.message) < 300


def test_help_needs_no_cache(sqlite_engine):
    answer = share.COMMAND.run("help", Context(Reader(sqlite_engine), sqlite_engine))
    assert "/share [org | family | model | country | region]" in answer.text
    assert "`/share deepseek-ai/DeepSeek-R1`" in answer.text


def test_the_overview_on_each_database(engine):
    store_world(engine)
    text = share.COMMAND.run("", context(engine)).text
    for title in ("*By publisher*", "*By lineage*"):
        assert sum(_percentages(_section(text, title))) == pytest.approx(100, abs=0.2)


@pytest.mark.parametrize(
    ("text", "want_chart"),
    [
        ("", True),
        ("qwen", True),
        ("china", True),
        ("unregistered", False),
        ("eu", True),
        ("智谱", True),
        ("deepcogito/cogito-v2.1", False),
        ("orphan/child", False),
    ],
)
def test_an_answer_checks_out_one_connection(world, text, want_chart):
    checkouts: list[object] = []

    def checkout(*_: object) -> None:
        checkouts.append(threading.get_ident())

    event.listen(world, "checkout", checkout)
    try:
        ask(world, text, want_chart=want_chart)
    finally:
        event.remove(world, "checkout", checkout)
    assert len(checkouts) == 1


def test_a_session_is_its_own_reader_for_its_block_and_thread_only(world):
    shared = Reader(world, load_registry())
    outside: list[object] = []
    with shared.session() as reader:
        assert reader is not shared
        with reader.session() as inner:
            assert inner is reader
        latest = reader.latest()
        worker = threading.Thread(target=lambda: outside.append(shared.latest()))
        worker.start()
        worker.join()
        assert outside == [latest]  # the shared Reader still reads on its own connections
        worker = threading.Thread(target=lambda: outside.append(_error_of(reader.latest)))
        worker.start()
        worker.join()
        assert "another thread" in str(outside[-1])
    with pytest.raises(RuntimeError, match="after its block ended"):
        reader.latest()
    assert shared.latest() == latest


def _error_of(call) -> Exception | None:
    try:
        call()
    except Exception as exc:
        return exc
    return None
