"""``/releases`` on the hand-made world, with time driven by a frozen clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine

from bot.answers.message import Answer
from bot.core.errors import EmptyCacheError, UserError
from bot.core.registry import load_registry
from bot.model.crawl import Crawl
from bot.model.records import looks_quantized, to_record
from bot.store.reader import Reader
from bot.store.writer import store_crawl
from commands import releases
from commands.base import Context
from tests.fakes.hub import make_record
from tests.fixtures_cache import NOW, T1, context, world_engine


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = world_engine(tmp_path_factory.mktemp("releases") / "hub.db")
    yield engine
    engine.dispose()


def ask(engine: Engine, text: str = "", **kwargs) -> Answer:
    answer = releases.COMMAND.run(text, context(engine, **kwargs))
    assert len(answer.blocks) <= 50
    for block in answer.blocks:
        Block.parse(block).validate_json()
    return answer


def _listed(text: str) -> list[str]:
    return re.findall(r"^• `([^`]+)`", text, re.M)


def test_the_last_week_by_registered_orgs_newest_first_grouped_by_org(world):
    text = ask(world).text
    assert text.startswith("*New releases: registered orgs, last 7 days*")
    assert _listed(text) == ["deepseek-ai/DeepSeek-R2", "Qwen/Qwen3-8B", "meta-llama/Llama-5-8B"]
    groups = re.findall(r"^\*([^*]+)\* \(`", text, re.M)
    assert groups == ["DeepSeek", "Alibaba Qwen", "Meta Llama"]
    assert "`someone/random-new`" not in text  # not a registered org
    assert "gemma-old-release" not in text  # 20 days old
    assert "1 quantized re-upload left out: add `all` to include it." in text
    assert "Hub data as of 2 Mar 2026 09:00 UTC" in text


def test_first_days_downloads_come_from_the_snapshot(world):
    text = ask(world).text
    assert (
        "`deepseek-ai/DeepSeek-R2` · 1 Mar 2026 · text-generation · 700 downloads in its first day"
        in text
    )
    assert (
        "`Qwen/Qwen3-8B` · 28 Feb 2026 · text-generation · 900 downloads in its first 2 days"
        in text
    )


def test_quantizations_only_with_all(world):
    assert _listed(ask(world, "qwen").text) == ["Qwen/Qwen3-8B"]
    text = ask(world, "qwen all").text
    assert _listed(text) == ["Qwen/Qwen3-8B", "Qwen/Qwen3-8B-GGUF"]
    assert "Quantized re-uploads included." in text


def test_a_country_and_a_longer_window(world):
    text = ask(world, "us 30").text
    assert text.startswith("*New releases: United States (registered orgs), last 30 days*")
    assert _listed(text) == ["meta-llama/Llama-5-8B", "google/gemma-old-release"]
    assert "1 download last week" in text
    assert _listed(ask(world, "united states 30 days").text) == _listed(text)
    assert _listed(ask(world, "cn 14d").text) == ["deepseek-ai/DeepSeek-R2", "Qwen/Qwen3-8B"]


def test_now_comes_from_the_clock(world):
    later = ask(world, now=NOW + timedelta(days=4, hours=12)).text
    assert _listed(later) == ["deepseek-ai/DeepSeek-R2", "Qwen/Qwen3-8B"]
    nothing = ask(world, "deepseek", now=NOW + timedelta(days=30)).text
    assert "No new models from DeepSeek in the last 7 days." in nothing
    assert ":warning:" in nothing  # the snapshot is a month old by then


def _store(engine: Engine, raw: list[dict], taken_at) -> None:
    records = {r.id: r for r in map(to_record, raw)}
    store_crawl(
        engine,
        Crawl(records, list(records)),
        load_registry(),
        taken_at=taken_at,
        finished_at=taken_at,
        source="fixture",
        top_n=100,
    )


def _hub_time(when) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_a_model_created_during_the_crawl_counts_from_its_first_day(sqlite_engine):
    _store(
        sqlite_engine,
        [make_record("Qwen/Qwen4", downloads=5, created_at=_hub_time(T1))],
        T1 - timedelta(hours=1),
    )
    text = ask(sqlite_engine).text
    assert "`Qwen/Qwen4` · 2 Mar 2026 · text-generation · 5 downloads in its first day" in text


def test_a_release_missing_from_the_latest_snapshot_has_no_figures(sqlite_engine):
    created = _hub_time(T1 - timedelta(days=3))
    gone = make_record("Qwen/Qwen4", downloads=5, created_at=created)
    kept = make_record("Qwen/Qwen4-Base", downloads=7, created_at=created)
    _store(sqlite_engine, [gone, kept], T1 - timedelta(days=1))
    _store(sqlite_engine, [kept], T1)
    text = ask(sqlite_engine).text
    assert "`Qwen/Qwen4` · 27 Feb 2026 · text-generation · no downloads counted yet" in text
    assert (
        "`Qwen/Qwen4-Base` · 27 Feb 2026 · text-generation · 7 downloads in its first 3 days"
        in text
    )
    assert "Models missing from the latest snapshot have no download figures yet." in text


def test_long_lists_are_capped_with_and_n_more(sqlite_engine):
    orgs = sorted(org.org for org in load_registry() if org.org != "Qwen")[:13]
    created, older = _hub_time(NOW - timedelta(days=1)), _hub_time(NOW - timedelta(days=2))
    raw = [make_record(f"Qwen/Qwen-{i:02d}", created_at=created) for i in range(12)]
    raw += [make_record(f"{org}/release", created_at=older) for org in orgs]
    _store(sqlite_engine, raw, T1)
    text = ask(sqlite_engine).text
    assert "*Alibaba Qwen* (`Qwen`) · China · 12 new" in text
    assert "…and 4 more\n" in text
    assert "…and 2 more orgs: narrow it down with an org or a country." in text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("qwen 0", "The window is 1 to 90 days."),
        ("qwen 91", "The window is 1 to 90 days."),
        ("deepseek-ai/DeepSeek-R2", "takes an org or a country, not a model"),
        ("unregistered", "registered orgs only"),
        ("cn -3", "`-3` is neither a number of days (1 to 90) nor a period"),
        ("cn +3", "`+3` is neither a number of days"),
        ("-3 cn", "`-3` is neither a number of days"),
        ("qwen 12345", "`12345` is neither a number of days"),
        ("qwen 2025-13", "`2025-13` is neither a number of days"),
        ("qwen 2025-q5", "`2025-q5` is neither a number of days"),
        ("qwen since", "`since` is neither a number of days"),
        ("qwen 14 2025", "Give a number of days or a period, not both."),
        ("qwen family", "releases of a family (fine-tunes of its models by others) are not kept"),
    ],
)
def test_bad_arguments_get_the_usage(world, text, problem):
    with pytest.raises(UserError) as caught:
        ask(world, text)
    assert problem in caught.value.message
    assert "Usage: `/releases [org | country | region] [days | period] [all]`" in (
        caught.value.message
    )


def test_30d_is_the_last_30_days_and_names_starting_with_digits_still_resolve(world):
    assert ask(world, "us 30d").text == ask(world, "us 30").text
    text = ask(world, "01-ai").text
    assert text.startswith("*New releases: 01.AI, last 7 days*")


def test_empty_cache(sqlite_engine):
    with pytest.raises(EmptyCacheError):
        releases.COMMAND.run("", Context(Reader(sqlite_engine), sqlite_engine))


def test_unknown_names(world):
    with pytest.raises(UserError, match=r"no org or model called `deepseeek`; did you mean"):
        ask(world, "deepseeek 7")


@pytest.mark.parametrize("hostile", ["<!channel>", "<@U123> 7 all", "&" * 10_000, "\u202e"])
def test_hostile_input(world, hostile):
    with pytest.raises(UserError) as caught:
        ask(world, hostile)
    assert "<" not in caught.value.message
    assert "\u202e" not in caught.value.message


def test_public_and_help(world):
    assert ask(world, "qwen public").in_channel is True
    assert ask(world, "qwen").in_channel is False
    assert "`/releases qwen all`" in ask(world, "help").text


@pytest.mark.parametrize(
    ("model_id", "tags", "expected"),
    [
        ("Qwen/Qwen3-8B-GGUF", ["gguf"], True),
        ("Qwen/Qwen3-8B-AWQ", [], True),
        ("someone/x", ["base_model:quantized:Qwen/Qwen3-8B"], True),
        ("Qwen/Qwen3-8B", ["text-generation", "base_model:finetune:Qwen/Qwen3-8B-Base"], False),
    ],
)
def test_quantizations_are_recognised_from_stored_tags_and_names(model_id, tags, expected):
    assert looks_quantized(model_id, tags) is expected
