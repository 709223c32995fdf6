"""Name resolution shared by every command, against the hand-made world."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.answers.names import (
    CountryName,
    GroupName,
    ModelName,
    Name,
    OrgName,
    RegionName,
    resolve,
    with_article,
)
from bot.core.errors import UserError
from bot.store.reader import Reader
from tests.fixtures_cache import store_world, world_cache, world_engine


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = world_engine(tmp_path_factory.mktemp("names") / "hub.db")
    yield engine
    engine.dispose()


@pytest.fixture
def reader(world: Engine) -> Reader:
    return world_cache(world)


def _resolve(reader: Reader, text: str) -> Name:
    return resolve(text, reader, reader.latest().id)


def _problem(reader: Reader, text: str) -> str:
    with pytest.raises(UserError) as caught:
        _resolve(reader, text)
    return caught.value.message


@pytest.mark.parametrize(
    "text", ["qwen", "QWEN", "Qwen", "ＱＷＥＮ", "通义千问", "千问", "Alibaba Qwen", " qwen  "]
)
def test_org_ids_aliases_and_display_names_in_any_case(reader, text):
    assert _resolve(reader, text) == OrgName("Qwen", "Alibaba Qwen", "CN", registered=True)


@pytest.mark.parametrize(
    ("text", "org"),
    [
        ("深度求索", "deepseek-ai"),
        ("百度", "baidu"),
        ("月之暗面", "moonshotai"),
        ("豆包", "ByteDance-Seed"),
    ],
)
def test_native_script_names_resolve(reader, text, org):
    name = _resolve(reader, text)
    assert isinstance(name, OrgName)
    assert name.org == org


def test_a_group_alias_is_a_group_for_share_and_a_choice_elsewhere(reader):
    group = resolve("智谱", reader, reader.latest().id, groups=True)
    assert isinstance(group, GroupName)
    assert [org.org for org in group.orgs] == ["zai-org", "THUDM"]
    message = _problem(reader, "智谱")
    assert "could mean more than one thing" in message
    assert "`zai-org`" in message
    assert "`THUDM`" in message
    alibaba = resolve("阿里巴巴", reader, reader.latest().id, groups=True)
    assert isinstance(alibaba, GroupName)
    assert "Qwen" in [org.org for org in alibaba.orgs]


@pytest.mark.parametrize(
    ("text", "region"), [("eu", "eu"), ("Europe", "eu"), ("EU", "eu"), ("european union", "eu")]
)
def test_regions_resolve_only_where_groups_are_answered(reader, text, region):
    assert resolve(text, reader, reader.latest().id, groups=True) == RegionName(region)
    assert "no org or model called" in _problem(reader, text)


def test_other_is_a_region_for_share_and_the_unregistered_authors_elsewhere(reader):
    assert resolve("other", reader, reader.latest().id, groups=True) == RegionName("other")
    assert _resolve(reader, "other") == CountryName("ZZ")


def test_cogito_is_deep_cogito(reader):
    name = _resolve(reader, "cogito")
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
        ("中国", "CN"),
        ("unregistered", "ZZ"),
        ("other", "ZZ"),
    ],
)
def test_countries_by_code_alias_or_name(reader, text, code):
    assert _resolve(reader, text) == CountryName(code)


def test_model_ids_in_any_case_give_the_stored_spelling(reader):
    name = _resolve(reader, "QWEN/qwen2.5-7b-INSTRUCT")
    assert isinstance(name, ModelName)
    assert name.model.id == "Qwen/Qwen2.5-7B-Instruct"


def test_a_bare_model_name_is_found_under_a_registered_org(reader):
    name = _resolve(reader, "deepseek-r2")
    assert isinstance(name, ModelName)
    assert name.model.id == "deepseek-ai/DeepSeek-R2"


def test_an_unregistered_author_is_an_org_of_unknown_country(reader):
    name = _resolve(reader, "SOMEONE")
    assert name == OrgName("someone", "someone", "ZZ", registered=False)


def test_unknown_names_get_up_to_three_close_matches(reader):
    assert _problem(reader, "qwn") == "no org or model called `qwn`; did you mean `Qwen` or `wan`?"
    assert "did you mean `DeepSeek`" in _problem(reader, "deepsek")
    assert _problem(reader, "zzzzzzzz") == "no org or model called `zzzzzzzz`"


def test_unknown_model_ids_suggest_that_orgs_models(reader):
    message = _problem(reader, "deepseek-ai/DeepSeek-R3")
    assert message.startswith("no org or model called `deepseek-ai/DeepSeek-R3`; did you mean")
    assert "`deepseek-ai/DeepSeek-R2`" in message


def test_ambiguous_names_list_the_candidates(reader):
    message = _problem(reader, "shanghai")
    assert "could mean more than one thing" in message
    assert "`internlm`" in message
    assert "`OpenGVLab`" in message


@pytest.mark.parametrize(
    "hostile",
    ["<!channel>", "<@U123>", "a & b", "<https://evil|click>", "x" * 10_000, "\u202eevil"],
)
def test_hostile_names_are_escaped_and_truncated_in_the_message(reader, hostile):
    message = _problem(reader, hostile)
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
    reader = world_cache(engine)
    snapshot = reader.latest()
    assert reader.author_named(snapshot.id, "MERGER") == "merger"
    assert reader.author_named(snapshot.id, "nobody-at-all") is None
    assert [m.id for m in reader.models_named(["QWEN/QWEN3-8B", "x/none"])] == ["Qwen/Qwen3-8B"]
    assert _resolve(reader, "Merger") == OrgName("merger", "merger", "ZZ", registered=False)
