"""``/share`` answers that never contradict themselves, on a world whose answers are known.

The world has seven countries' orgs and two unregistered authors, one of them larger than
Germany: the overview's third country must be the one ``/share <country>`` ranks third, and
the unregistered authors a line of their own. DeepSeek's distills of Qwen and Llama make its
family smaller than its own repos, and the answer must say where they went.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.answers.render import percent
from bot.core.clock import FrozenClock
from bot.core.registry import load_registry
from bot.model.crawl import Crawl
from bot.model.records import to_record
from bot.store.engine import make_engine, upgrade
from bot.store.reader import Reader
from bot.store.writer import store_crawl
from commands import share
from commands.base import Context
from tests.fakes.hub import make_record

TAKEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

MODELS: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("Qwen/Qwen3-8B", 5000, ()),
    ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", 3000, ("Qwen/Qwen3-8B",)),
    ("deepseek-ai/DeepSeek-R1-Distill-Llama-8B", 1000, ("meta-llama/Llama-3.1-8B",)),
    ("deepseek-ai/DeepSeek-V3", 1000, ()),
    ("someone/DeepSeek-V3-GGUF", 200, ("deepseek-ai/DeepSeek-V3",)),
    ("meta-llama/Llama-3.1-8B", 4000, ()),
    ("black-forest-labs/FLUX.1-dev", 1500, ()),
    ("mistralai/Mistral-7B", 1200, ()),
    ("stabilityai/sdxl", 900, ()),
    ("SakanaAI/TinySwallow", 300, ()),
    ("zai-org/GLM-4.5", 600, ()),
    ("THUDM/glm-4-9b", 400, ()),
    ("randomuser/big-model", 2500, ()),
)
TOTAL = sum(downloads for _, downloads, _ in MODELS)  # 21,600
"""By publisher: CN 11,000; US 4,000; unregistered 2,700; DE 1,500; FR 1,200; GB 900; JP 300."""


def _share(value: float) -> str:
    return f"*{percent(value / TOTAL)}*"


def store_world(engine: Engine) -> None:
    """Store the world as one snapshot, with the bundled registry."""
    records = {
        model_id: to_record(make_record(model_id, downloads=downloads, parents=parents))
        for model_id, downloads, parents in MODELS
    }
    top = sorted(records, key=lambda model_id: (-records[model_id].downloads, model_id))
    store_crawl(
        engine,
        Crawl(records=records, top_ids=top, org_ids=set(records)),
        load_registry(),
        taken_at=TAKEN,
        finished_at=TAKEN + timedelta(minutes=5),
        source="fixture",
        top_n=100,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('reconcile') / 'hub.db'}")
    upgrade(engine)
    store_world(engine)
    yield engine
    engine.dispose()


def ask(engine: Engine, text: str = "") -> str:
    reader = Reader(engine, load_registry(), FrozenClock(TAKEN + timedelta(hours=1)))
    return share.COMMAND.run(text, Context(reader, engine)).text


def _lines(text: str, title: str) -> list[tuple[str, str]]:
    start = text.index(title)
    end = text.find("*By ", start + 1)
    section = text[start : end if end > 0 else None]
    return re.findall(r"^• ([^:]+): (\*[\d.]+%\*)", section, re.M)


def test_the_overview_keeps_unregistered_authors_apart_from_other_countries(world):
    lines = _lines(ask(world), "*By publisher*")
    assert lines == [
        ("China", _share(11000)),
        ("United States", _share(4000)),
        ("Germany", _share(1500)),
        ("3 more countries", _share(1200 + 900 + 300)),
        ("Unregistered authors", _share(2700)),
    ]


def test_a_country_rank_is_its_place_in_the_overview(world):
    assert f"{_share(1500)} · 1.5K downloads, rank #3 among countries" in ask(world, "germany")
    assert "rank #4 among countries" in ask(world, "france")
    unregistered = ask(world, "unregistered")
    assert f"By publisher (models they uploaded): {_share(2700)}" in unregistered
    assert "rank" not in unregistered
    assert "• randomuser (`randomuser`)" in unregistered


def test_every_answer_says_how_much_sits_with_unregistered_authors(world):
    coverage = (
        f"Unregistered authors (not in the org registry) hold {percent(2700 / TOTAL)} of these "
        f"downloads by publisher, {percent(2500 / TOTAL)} by lineage."
    )
    for text in ("", "qwen", "cn", "eu", "阿里巴巴", "unregistered", "Qwen/Qwen3-8B"):
        assert coverage in ask(world, text), text


def test_a_region_is_the_sum_of_its_countries(world):
    text = ask(world, "eu")
    assert f"By publisher (models its orgs uploaded): {_share(1500 + 1200)}" in text
    assert "rank #3 among regions" in text
    assert re.findall(r"^• ([^:(]+): [\d.]+%$", text, re.M) == ["Germany", "France"]
    other = ask(world, "other")
    assert f"{_share(900 + 300)}" in other
    assert "rank #4 among regions" in other
    assert "Stability AI (`stabilityai`)" in other


def test_a_family_smaller_than_its_own_repos_says_which_families_took_them(world):
    text = ask(world, "deepseek")
    assert (
        f"• Own repos: {_share(5000)} of downloads, rank *#2* among orgs" in text
    )  # Qwen ties, first by name
    assert f"third-party derivatives included: {_share(1200)}" in text
    assert (
        f"so {percent(4000 / TOTAL)} of downloads are its own repos built on other orgs' bases, "
        f"counted in those families: Alibaba Qwen ({percent(3000 / TOTAL)}), "
        f"Meta Llama ({percent(1000 / TOTAL)})."
    ) in text
    assert "Why the family is smaller" not in ask(world, "qwen")


def test_a_native_script_alias_of_several_orgs_answers_for_the_group(world):
    text = ask(world, "智谱")
    assert "names 2 registered orgs: `zai-org`, `THUDM`" in text
    assert f"• Own repos: {_share(1000)} of downloads" in text
    assert re.findall(r"\(`([^`]+)`\): ", text) == ["zai-org", "THUDM"]
    assert "• Own repos" in ask(world, "通义千问")  # one org: the org's own answer
    assert "Alibaba Qwen (`Qwen`)" in ask(world, "阿里巴巴")
