"""Name resolution shared by every command, against the hand-made world."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.cache import Cache
from bot.errors import UserError
from bot.names import CountryName, ModelName, Name, OrgName, resolve, with_article
from tests.fixtures_cache import store_world, world_cache, world_engine


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = world_engine(tmp_path_factory.mktemp("names") / "hub.db")
    yield engine
    engine.dispose()


@pytest.fixture
def cache(world: Engine) -> Cache:
    return world_cache(world)


def _resolve(cache: Cache, text: str) -> Name:
    return resolve(text, cache, cache.latest().id)


def _problem(cache: Cache, text: str) -> str:
    with pytest.raises(UserError) as caught:
        _resolve(cache, text)
    return caught.value.message


@pytest.mark.parametrize("text", ["qwen", "QWEN", "Qwen", "alibaba", "Alibaba Qwen", " qwen  "])
def test_org_ids_aliases_and_display_names_in_any_case(cache, text):
    assert _resolve(cache, text) == OrgName("Qwen", "Alibaba Qwen", "CN", registered=True)


def test_cogito_is_deep_cogito(cache):
    name = _resolve(cache, "cogito")
    assert isinstance(name, OrgName)
    assert (name.org, name.country) == ("deepcogito", "US")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("cn", "CN"),
        ("CN", "CN"),
        ("china", "CN"),
        ("us", "US"),
        ("usa", "US"),
        ("United States", "US"),
        ("France", "FR"),
        ("other", "ZZ"),
    ],
)
def test_countries_by_code_alias_or_name(cache, text, code):
    assert _resolve(cache, text) == CountryName(code)


def test_model_ids_in_any_case_give_the_stored_spelling(cache):
    name = _resolve(cache, "QWEN/qwen2.5-7b-INSTRUCT")
    assert isinstance(name, ModelName)
    assert name.model.id == "Qwen/Qwen2.5-7B-Instruct"


def test_a_bare_model_name_is_found_under_a_registered_org(cache):
    name = _resolve(cache, "deepseek-r2")
    assert isinstance(name, ModelName)
    assert name.model.id == "deepseek-ai/DeepSeek-R2"


def test_an_unregistered_author_is_an_org_of_unknown_country(cache):
    name = _resolve(cache, "SOMEONE")
    assert name == OrgName("someone", "someone", "ZZ", registered=False)


def test_unknown_names_get_up_to_three_close_matches(cache):
    assert _problem(cache, "qwn") == "no org or model called `qwn`; did you mean `Qwen` or `wan`?"
    assert "did you mean `DeepSeek`" in _problem(cache, "deepsek")
    assert _problem(cache, "zzzzzzzz") == "no org or model called `zzzzzzzz`"


def test_unknown_model_ids_suggest_that_orgs_models(cache):
    message = _problem(cache, "deepseek-ai/DeepSeek-R3")
    assert message.startswith("no org or model called `deepseek-ai/DeepSeek-R3`; did you mean")
    assert "`deepseek-ai/DeepSeek-R2`" in message


def test_ambiguous_names_list_the_candidates(cache):
    message = _problem(cache, "shanghai")
    assert "could mean more than one thing" in message
    assert "`internlm`" in message
    assert "`OpenGVLab`" in message


@pytest.mark.parametrize(
    "hostile",
    ["<!channel>", "<@U123>", "a & b", "<https://evil|click>", "x" * 10_000, "\u202eevil"],
)
def test_hostile_names_are_escaped_and_truncated_in_the_message(cache, hostile):
    message = _problem(cache, hostile)
    assert "<" not in message
    assert ">" not in message
    assert "\u202e" not in message
    assert len(message) < 300
    if "&" in hostile:
        assert "&amp;" in message


def test_articles():
    assert with_article("US") == "a US"
    assert with_article("Israeli") == "an Israeli"
    assert with_article("Chinese") == "a Chinese"


def test_case_insensitive_author_lookup_on_each_database(engine):
    """The org-row lookup uses lower() in SQL: check it on SQLite and PostgreSQL."""
    store_world(engine)
    cache = world_cache(engine)
    snapshot = cache.latest()
    assert cache.author_named(snapshot.id, "MERGER") == "merger"
    assert cache.author_named(snapshot.id, "nobody-at-all") is None
    assert [m.id for m in cache.models_named(["QWEN/QWEN3-8B", "x/none"])] == ["Qwen/Qwen3-8B"]
    assert _resolve(cache, "Merger") == OrgName("merger", "merger", "ZZ", registered=False)
