"""The org registry: the bundled file, strict parsing, both formats, layering and regions."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from bot.core.registry import (
    COUNTRY_NAMES,
    REGION_NAMES,
    Org,
    RegistryError,
    changes,
    fold,
    load_registry,
    parse_csv,
    parse_rows,
    region_of,
)

HEADER = "org,country,display_name,aliases,source"


def bundled_rows() -> list[dict[str, str]]:
    text = resources.files("bot").joinpath("data/orgs.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_the_bundled_registry_has_200_orgs_each_with_a_source_and_a_region():
    registry = load_registry()
    assert len(registry) >= 200
    for org in registry:
        assert org.source.startswith(f"https://huggingface.co/{org.org} ("), org.org
        assert org.region in REGION_NAMES
    assert load_registry() is registry  # read once


def test_legacy_and_renamed_namespaces_are_rows_of_their_own():
    registry = load_registry()
    for legacy, current in (
        ("THUDM", "zai-org"),
        ("CohereForAI", "CohereLabs"),
        ("cl-tohoku", "tohoku-nlp"),
    ):
        assert registry.get(legacy) is not None
        assert registry.get(current) is not None
        assert registry.get(legacy) != registry.get(current)


@pytest.mark.parametrize(
    ("alias", "orgs"),
    [
        ("通义千问", ["Qwen"]),
        ("千问", ["Qwen"]),
        ("深度求索", ["deepseek-ai"]),
        ("百度", ["baidu"]),
        ("文心", ["baidu"]),
        ("月之暗面", ["moonshotai"]),
        ("kimi", ["moonshotai"]),
        ("腾讯", ["tencent"]),
        ("混元", ["tencent"]),
        ("字节跳动", ["ByteDance-Seed"]),
        ("豆包", ["ByteDance-Seed"]),
        ("智谱", ["zai-org", "THUDM"]),
    ],
)
def test_native_script_and_product_names_are_aliases(alias, orgs):
    assert list(load_registry().aliases[fold(alias)]) == orgs


def test_alibaba_names_every_alibaba_org():
    registry = load_registry()
    alibaba = registry.aliases[fold("阿里巴巴")]
    assert registry.aliases["alibaba"] == alibaba
    assert {"Qwen", "Alibaba-NLP", "Wan-AI", "alibaba-pai", "FunAudioLLM"} <= set(alibaba)
    assert all("Alibaba" in registry.orgs[org.lower()].display_name for org in alibaba)


def test_fold_is_nfkc_and_casefold():
    assert fold("ＱＷＥＮ") == fold("qwen") == fold(" Qwen ") == "qwen"
    assert fold("Straße") == fold("STRASSE")


@pytest.mark.parametrize(
    ("country", "region"),
    [
        ("US", "us"),
        ("CN", "china"),
        ("DE", "eu"),
        ("FR", "eu"),
        ("EU", "eu"),
        ("GB", "other"),
        ("CH", "other"),
        ("JP", "other"),
        ("XO", "other"),
        ("XU", "unknown"),
        ("ZZ", None),
    ],
)
def test_each_country_has_one_region_and_unregistered_authors_none(country, region):
    assert region_of(country) == region


def test_every_country_code_in_the_file_is_known_and_every_region_used():
    codes = {row["country"] for row in bundled_rows()}
    assert codes <= set(COUNTRY_NAMES)
    assert {region_of(code) for code in codes} == set(REGION_NAMES)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("org,country\nQwen,CN\n", "x.csv line 1: the header must be"),
        (f"{HEADER}\nQwen,CN,Qwen\n", "x.csv line 2: 3 fields, expected 5"),
        (f"{HEADER}\nQwen,CN,Qwen,,src\nbad org,US,B,,src\n", "x.csv line 3: 'bad org' is not"),
        (f"{HEADER}\nQwen,QQ,Qwen,,src\n", "x.csv line 2: country 'QQ' is not a known code"),
        (f"{HEADER}\nQwen,ZZ,Qwen,,src\n", "x.csv line 2: country 'ZZ'"),
        (f"{HEADER}\nQwen,CN,Qwen,,\n", "x.csv line 2: Qwen has no source"),
        (f"{HEADER}\nQwen,CN,Qwen,,s\nqwen,CN,Q,,s\n", "x.csv line 3: qwen is listed twice"),
        ("hf_org,region,notes\nQwen,asia,\n", "x.csv line 2: region 'asia' is not one of"),
    ],
)
def test_a_malformed_file_names_the_row(body, message):
    with pytest.raises(RegistryError) as caught:
        parse_rows(body.splitlines(), "x.csv")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_atom_rows_keep_known_orgs_unless_the_region_differs():
    known = load_registry()
    rows = parse_rows(
        [
            "hf_org,region,notes",
            "Qwen,china,Alibaba",  # agrees: unchanged
            "mistralai,eu,",  # FR is in the eu: unchanged
            "stabilityai,eu,",  # GB is not: becomes EU (country not given)
            "new-lab,eu,a lab in Paris",
            "collective,unknown,",
            "elsewhere,other,",
            "yankee,us,",
        ],
        "atom.csv",
        known,
    )
    by_id = {org.org: org for org in rows}
    assert by_id["Qwen"] == known.get("Qwen")
    assert by_id["mistralai"] == known.get("mistralai")
    assert by_id["stabilityai"].country == "EU"
    assert by_id["stabilityai"].display_name == "Stability AI"
    assert by_id["stabilityai"].source == (
        f"{known.get('stabilityai').source}; region eu from atom.csv (ATOM registry)"
    )
    assert (by_id["new-lab"].country, by_id["new-lab"].region) == ("EU", "eu")
    assert by_id["new-lab"].source == "atom.csv (ATOM registry: a lab in Paris)"
    assert (by_id["collective"].country, by_id["collective"].region) == ("XU", "unknown")
    assert (by_id["elsewhere"].country, by_id["elsewhere"].region) == ("XO", "other")
    assert by_id["yankee"].country == "US"
    found = changes(known, rows)
    assert [org.org for org in found.added] == ["new-lab", "collective", "elsewhere", "yankee"]
    assert [(a.country, b.country) for a, b in found.changed] == [("GB", "EU")]
    assert len(found.unchanged) == 2


def test_layering_replaces_by_id_in_any_case_and_adds():
    base = parse_csv([HEADER, "Qwen,CN,Alibaba Qwen,qwen chat|阿里巴巴,src"])
    layered = base.layered(
        [Org("QWEN", "US", "Moved", (), "s2"), Org("newco", "DE", "NewCo", ("阿里巴巴",), "s3")]
    )
    assert len(layered) == 2
    assert layered.country_of("qwen") == "US"
    assert layered.aliases[fold("阿里巴巴")] == ("newco",)
    assert base.country_of("Qwen") == "CN"  # the base is left as it was
