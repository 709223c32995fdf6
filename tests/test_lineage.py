"""``/lineage`` on the hand-made world: chains across countries, merges, cycles, missing links."""

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
from bot.model.records import to_record
from bot.store.reader import Reader
from bot.store.writer import store_crawl
from commands import lineage
from commands.base import Context
from commands.lineage import Lineage, Link
from tests.fakes.hub import make_record
from tests.fixtures_cache import T1, context, store_world, world_engine

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = world_engine(tmp_path_factory.mktemp("lineage") / "hub.db")
    yield engine
    engine.dispose()


def ask(engine: Engine, text: str, **kwargs) -> Answer:
    answer = lineage.COMMAND.run(text, context(engine, **kwargs))
    assert len(answer.blocks) <= 50
    for block in answer.blocks:
        Block.parse(block).validate_json()
    return answer


def _chain(text: str) -> list[str]:
    """The model ids of the chain, in the order printed (the model first)."""
    start = text.index("*Built on*")
    end = text.index("*Built on it*")
    return re.findall(r"`([^`]+/[^`]+)` ·", text[start:end])


def test_three_generations_crossing_countries(world):
    answer = ask(world, "mistralai/Cogito-Remix", want_chart=True)
    text = answer.text
    assert _chain(text) == [
        "mistralai/Cogito-Remix",
        "deepcogito/cogito-v2.1",
        "deepseek-ai/DeepSeek-V3-Base",
    ]
    assert "↳ fine-tune of `deepcogito/cogito-v2.1` · Deep Cogito · United States" in text
    assert "`deepseek-ai/DeepSeek-V3-Base` · DeepSeek · China · root" in text
    assert "Crosses countries: a French model built on a Chinese base (via United States)." in text
    assert answer.chart is not None
    assert answer.chart.png.startswith(PNG)
    assert "deepseek-ai/DeepSeek-V3-Base → deepcogito/cogito-v2.1" in answer.chart.alt_text


def test_an_org_shows_its_models_chains_and_says_when_they_cross(world):
    answer = ask(world, "cogito", want_chart=True)
    text = answer.text
    assert "*Deep Cogito* (`deepcogito`) · United States" in text
    assert "`deepcogito/cogito-v2.1` · Deep Cogito · United States" in text
    assert "↳ fine-tune of `deepseek-ai/DeepSeek-V3-Base` · DeepSeek · China · root" in text
    assert "a US model fine-tuned from a Chinese base." in text
    assert answer.chart is not None


def test_a_chain_within_one_country_is_not_flagged(world):
    assert "Crosses countries" not in ask(world, "Qwen/Qwen2.5-7B-Instruct").text


def test_a_cycle_is_reported_and_not_followed(world):
    text = ask(world, "loopy/a").text
    assert _chain(text) == ["loopy/a", "loopy/b", "loopy/a"]
    assert "loop back to `loopy/a`: a cycle, not followed further" in text


def test_a_merge_names_both_parents(world):
    text = ask(world, "merger/Qwen-Llama-Merge").text
    assert "↳ merge of `Qwen/Qwen2.5-7B` · Alibaba Qwen · China" in text
    assert "also of `meta-llama/Llama-3.1-8B`" in text


def test_a_missing_parent_is_reported(world):
    text = ask(world, "orphan/child").text
    assert "`gone/deleted-model` · gone · other/unknown · _not in the cache" in text
    assert "the chain stops here" in text


def test_descendants_are_counted_by_relation_and_the_family_total_is_the_sum(world):
    text = ask(world, "Qwen/Qwen2.5-7B").text
    assert "declares no parent: it is a root" in text
    # Its descendants: the Instruct fine-tune (2000), its GGUF (1000), the merge (300).
    # Direct children: the Instruct fine-tune and the merge; the GGUF is a grandchild.
    assert "Direct children in the cache: 1 fine-tune, 1 merge (2 in all)." in text
    assert (
        "The Hub counts 3 direct children: 1 is not in the cache (outside the cached top "
        "models, private or deleted)." in text
    )
    assert (
        "All descendants, at any depth: 3 derived repos (1 quantization, 1 merge, 1 fine-tune) "
        "with 3.3K downloads" in text
    )
    tops = re.findall(r"^• `([^`]+)`: ", text, re.M)
    assert tops == [
        "Qwen/Qwen2.5-7B-Instruct",
        "someone/Qwen2.5-7B-Instruct-GGUF",
        "merger/Qwen-Llama-Merge",
    ]
    reader = context(world).reader
    stat = reader.lineage_stat(reader.latest().id, "Qwen/Qwen2.5-7B")
    assert stat is not None
    assert stat.descendant_downloads == 2000 + 1000 + 300
    assert sum(stat.by_relation.values()) == stat.descendants == 3


def test_a_model_with_no_relatives_says_so(world):
    text = ask(world, "google/gemma-2-9b").text
    assert "No derived repos in the cache." in text


def test_a_chain_longer_than_the_walk_limit_is_cut(sqlite_engine):
    ids = [f"deep/m{i:02d}" for i in range(70)]
    records = {
        model_id: to_record(make_record(model_id, downloads=10, parents=ids[i - 1 : i]))
        for i, model_id in enumerate(ids)
    }
    store_crawl(
        sqlite_engine,
        Crawl(records, list(ids)),
        load_registry(),
        taken_at=T1,
        finished_at=T1 + timedelta(minutes=1),
        source="fixture",
        top_n=100,
    )
    text = ask(sqlite_engine, "deep/m69").text
    assert "Stopped after 64 links." in text
    assert "69 derived repos" not in text
    assert "No derived repos" in text


def test_a_country_is_not_a_lineage(world):
    with pytest.raises(UserError, match=r"try `/share cn`") as caught:
        ask(world, "china")
    assert "Usage: `/lineage &lt;model | org | family&gt;`" in caught.value.message


def test_an_empty_argument_gives_the_usage(world):
    with pytest.raises(UserError, match="Usage: `/lineage"):
        ask(world, "   ")


def test_empty_cache(sqlite_engine):
    with pytest.raises(EmptyCacheError):
        lineage.COMMAND.run("cogito", Context(Reader(sqlite_engine), sqlite_engine))


def test_unknown_names(world):
    with pytest.raises(UserError, match="no org or model called `cogitoo`; did you mean `cogito`"):
        ask(world, "cogitoo")


@pytest.mark.parametrize("hostile", ["<!channel>", "a/<@U123>", "&" * 5000, "\u202e/x"])
def test_hostile_input(world, hostile):
    with pytest.raises(UserError) as caught:
        ask(world, hostile)
    assert "<" not in caught.value.message
    assert len(caught.value.message) < 500


def test_public_and_help(world):
    assert ask(world, "cogito public").in_channel is True
    assert "/lineage cogito" in ask(world, "help").text


def test_chains_on_each_database(engine):
    store_world(engine)
    text = lineage.COMMAND.run("mistralai/cogito-remix", context(engine)).text
    assert _chain(text)[-1] == "deepseek-ai/DeepSeek-V3-Base"


def _links(*countries: str) -> list[Link]:
    last = len(countries) - 1
    return [
        Link(f"org{i}/m", f"org{i}", code, None if i == last else "finetune")
        for i, code in enumerate(countries)
    ]


@pytest.mark.parametrize(
    ("countries", "sentence"),
    [
        (("US", "CN"), "a US model fine-tuned from a Chinese base"),
        (("IL", "ZZ", "CN"), "an Israeli model built on a Chinese base"),
        (("FR", "US", "CN"), "a French model built on a Chinese base (via United States)"),
        (("US", "FR", "US"), "United States → France → United States"),
        (("ZZ", "CN"), None),
        (("CN", "CN", "ZZ"), None),
    ],
)
def test_crossing_sentences(countries, sentence):
    assert Lineage(_links(*countries), None, False).crossing == sentence


def _store(engine: Engine, raw: list[dict]) -> None:
    records = {r["id"]: to_record(r) for r in raw}
    store_crawl(
        engine,
        Crawl(records, list(records)),
        load_registry(),
        taken_at=T1,
        finished_at=T1 + timedelta(minutes=1),
        source="fixture",
        top_n=100,
    )


def test_direct_children_by_relation_beside_the_hubs_count_and_all_descendants(sqlite_engine):
    """Shaped like the real DeepSeek-V3 tree: most derived repos are direct fine-tunes, a few
    are fine-tunes of a fine-tune; the Hub's count of direct children is larger than the cache's
    (some are not in the cache). Direct children and all descendants are told apart."""
    root = "bigco/Base-V3"
    tunes = [f"fan{i}/Base-V3-tune" for i in range(5)]
    raw = [
        make_record(root, downloads=1000, children=9),
        *(make_record(t, downloads=10, parents=[root]) for t in tunes),
        make_record("q/Base-V3-GGUF", downloads=20, parents=[root], relation="quantized"),
        make_record("a/Base-V3-lora", downloads=5, parents=[root], relation="adapter"),
        make_record("g1/grandchild", downloads=3, parents=[tunes[0]]),
        make_record("g2/grandchild", downloads=2, parents=[tunes[0]]),
        make_record("g3/grandchild-GGUF", downloads=1, parents=[tunes[1]], relation="quantized"),
    ]
    _store(sqlite_engine, raw)
    text = ask(sqlite_engine, root).text
    assert (
        "Direct children in the cache: 5 fine-tunes, 1 adapter, 1 quantization (7 in all)." in text
    )
    assert (
        "The Hub counts 9 direct children: 2 are not in the cache (outside the cached top "
        "models, private or deleted)." in text
    )
    assert (
        "All descendants, at any depth: 10 derived repos (7 fine-tunes, 2 quantizations, "
        "1 adapter)" in text
    )


@pytest.mark.parametrize(
    ("hub", "sentence"),
    [
        (2, "The Hub counts 2 direct children, all of them in the cache."),
        (
            1,
            "The Hub counts 1 direct child: 1 of those in the cache came after its count, or it "
            "no longer counts them (made private or deleted).",
        ),
        (None, None),
    ],
)
def test_the_gap_with_the_hubs_count_is_explained(sqlite_engine, hub, sentence):
    raw = [
        make_record("solo/Base", downloads=100, children=hub),
        make_record("x/tune", downloads=5, parents=["solo/Base"]),
        make_record("y/tune", downloads=5, parents=["solo/Base"]),
    ]
    _store(sqlite_engine, raw)
    text = ask(sqlite_engine, "solo/Base").text
    assert "Direct children in the cache: 2 fine-tunes." in text
    if sentence is None:
        assert "The Hub counts" not in text
    else:
        assert sentence in text
