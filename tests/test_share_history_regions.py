"""``/share`` over the archived history for regions and groups of orgs, in the live answers'
vocabulary: checked against pandas on the same parquet files (``tests.share_history_world``).

The world's registry adds three authors to the small one: ``u1`` (Germany, so the EU with
France's Mistral), ``u2`` (Japan, region ``other``) and ``u3`` (China), which shares the
aliases ``阿里巴巴`` and ``alibaba`` with Qwen: a group of two orgs. ``someone`` and
``someone2`` stay unregistered.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from bot.answers.render import downloads, percent
from bot.core.errors import UserError
from bot.core.registry import Org, Registry, region_of
from bot.model.periods import split_period
from tests.hubworld import small_registry
from tests.share_history_world import (
    DAYS,
    NOW,
    Files,
    ask,
    checkouts,
    history_engine,
    import_archive,
    lead_changes,
    write_archive,
)

TODAY = NOW.date()
GROUP = ("Qwen", "u3")


def region_registry() -> Registry:
    return small_registry().layered(
        [
            Org("u1", "DE", "U1 Labs", (), "test"),
            Org("u2", "JP", "U2 Research", (), "test"),
            Org("u3", "CN", "U3 Alibaba", ("阿里巴巴", "alibaba"), "test"),
        ]
    )


@pytest.fixture(scope="module")
def registry() -> Registry:
    found = region_registry()
    assert {org.org for org in found.in_region("eu")} == {"mistralai", "u1"}
    return found


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
    engine = history_engine(tmp_path_factory.mktemp("regions"), archive, registry)
    yield engine
    engine.dispose()


def period_of(words: str) -> tuple[date, date]:
    _, period = split_period(tuple(words.split()), TODAY)
    assert period is not None
    return period.start, period.end


def section(text: str, attribution: str) -> str:
    return text[text.index(f"*By {attribution}*") :]


def by_region(by_country: pd.Series) -> pd.Series:
    """Countries summed by region (pandas); the unregistered authors are in none."""
    inside = by_country[[region_of(code) is not None for code in by_country.index]]
    return inside.groupby([region_of(code) for code in inside.index]).sum()


def weekly(files: Files, attribution: str, level: str, keys: set[str], column: str) -> dict:
    """The keys' summed share of each week's downloads (weeks with the column only)."""
    found = {}
    for day in files.days:
        if column in files.frames[day]:
            values = files.by_key(day, attribution, level, column)
            found[day] = values[values.index.isin(keys)].sum() / files.total(day, column)
    return found


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


# A period's overview: the live answers' lines


def test_the_overview_names_more_countries_and_unregistered_authors_apart(world, files, registry):
    text = ask(world, "2025", registry).text
    start, end = period_of("2025")
    for attribution in ("publisher", "lineage"):
        by_country, total = files.period(start, end, attribution, "country")
        countries = by_country.drop("ZZ", errors="ignore").sort_values(ascending=False)
        unregistered = by_country.get("ZZ", 0.0)
        third = countries.drop(["CN", "US"]).index[0]
        rest = countries.drop(["CN", "US", third])
        assert len(rest) == 2  # Germany and Japan, whatever the order
        part = section(text, attribution)
        assert f"• France: *{percent(by_country['FR'] / total)}*" in part
        assert third == "FR"
        assert (
            f"• 2 more countries: *{percent(rest.sum() / total)}* · {downloads(rest.sum())} "
            "· registered orgs"
        ) in part
        assert (
            f"• Unregistered authors: *{percent(unregistered / total)}* · "
            f"{downloads(unregistered)} · not in the org registry"
        ) in part
    publisher, total = files.period(start, end, "publisher", "country")
    lineage, _ = files.period(start, end, "lineage", "country")
    assert (
        f"Unregistered authors (not in the org registry) hold {percent(publisher['ZZ'] / total)} "
        f"of the period's downloads by publisher, {percent(lineage.get('ZZ', 0.0) / total)} by "
        "lineage"
    ) in text
    assert "other/unknown" not in text.lower()


def test_unregistered_authors_over_a_period(world, files, registry):
    text = ask(world, "unregistered 2025", registry).text
    start, end = period_of("2025")
    by_country, total = files.period(start, end, "publisher", "country")
    assert text.startswith("*Unregistered authors: share of Hub downloads, 2025*")
    assert "no country is guessed for them" in text
    assert (f"• By publisher (models they uploaded): *{percent(by_country['ZZ'] / total)}*") in text


# Regions: their countries summed


@pytest.mark.parametrize("period", ["2025", "2025-Q3", "all-time"])
def test_eu_over_a_period_sums_its_countries(world, files, registry, period):
    text = ask(world, f"eu {period}", registry).text
    heading = "all time" if period == "all-time" else period
    assert text.startswith(f"*European Union: share of Hub downloads, {heading}*")
    start, end = period_of(period)

    def countries(attribution: str) -> tuple[pd.Series, float]:
        if period == "all-time":
            latest = DAYS[-1]
            return (
                files.by_key(latest, attribution, "country", "downloadsAllTime"),
                files.total(latest, "downloadsAllTime"),
            )
        return files.period(start, end, attribution, "country")

    for attribution in ("publisher", "lineage"):
        by_country, total = countries(attribution)
        regions = by_region(by_country).sort_values(ascending=False)
        eu = by_country[["FR", "DE"]].sum()
        assert regions["eu"] == pytest.approx(eu)
        rank = list(regions.index).index("eu") + 1
        assert rank == 3  # after China and the US, ahead of Japan ("other")
        line = next(line for line in text.splitlines() if line.startswith(f"• By {attribution} ("))
        assert f"*{percent(eu / total)}*" in line
        assert f"· {downloads(eu)}, rank #{rank} among regions" in line
    publisher, _ = countries("publisher")
    first = "France" if publisher["FR"] >= publisher["DE"] else "Germany"
    assert f"*Its countries* (by publisher)\n• {first}: " in text
    assert "• Mistral AI (`mistralai`): " in text
    assert "• U1 Labs (`u1`): " in text
    assert "unregistered authors are in no region" in text


def test_the_other_region_is_its_countries_not_the_unregistered_authors(world, files, registry):
    text = ask(world, "other 2025", registry).text
    start, end = period_of("2025")
    by_country, total = files.period(start, end, "publisher", "country")
    assert text.startswith("*Other countries: share of Hub downloads, 2025*")
    assert f"*{percent(by_country['JP'] / total)}* of the period's downloads" in text
    assert by_country["JP"] != by_country["ZZ"]


def test_eu_vs_us_week_by_week_as_pandas(world, files, registry):
    answer = ask(world, "eu vs us", registry, want_chart=True)
    text = answer.text
    assert text.startswith("*The European Union vs the United States*")
    assert text.index("*By publisher*") < text.index("*By lineage*")  # no org: publishers first
    for attribution in ("publisher", "lineage"):
        part = section(text, attribution)
        for column in ("downloads", "downloadsAllTime"):
            eu = weekly(files, attribution, "country", {"FR", "DE"}, column)
            us = weekly(files, attribution, "country", {"US"}, column)
            assert lead_changes(eu, us) == []
            assert all(us[day] > eu[day] for day in us)
            now = DAYS[-1]
            assert (
                f"week of 12 Jan 2026: the European Union *{percent(eu[now])}*, the United "
                f"States *{percent(us[now])}*. The United States leads by "
                f"{(us[now] - eu[now]) * 100:.1f} pp"
            ) in part
        first_all_time = min(day for day in files.days if "downloadsAllTime" in files.frames[day])
        assert "The United States led in every archived week since that of 2 Dec 2024." in part
        assert (
            f"The United States led in every archived week since that of {_day(first_all_time)}."
        ) in part
    assert answer.chart is not None


def test_cn_vs_eu_2025_gives_both_period_shares(world, files, registry):
    text = ask(world, "cn vs eu 2025", registry).text
    start, end = period_of("2025")
    by_country, total = files.period(start, end, "publisher", "country")
    eu = by_country[["FR", "DE"]].sum()
    assert (
        f"• *2025*: China *{percent(by_country['CN'] / total)}*, the European Union "
        f"*{percent(eu / total)}* of the period's downloads"
    ) in text


# Groups: the orgs one name stands for, summed


@pytest.mark.parametrize("name", ["阿里巴巴", "alibaba"])
def test_a_group_over_a_period_sums_its_orgs_and_families(world, files, registry, name):
    text = ask(world, f"{name} 2025", registry).text
    start, end = period_of("2025")
    own, total = files.period(start, end, "publisher", "org")
    family, _ = files.period(start, end, "lineage", "org")
    assert text.startswith(f"*{name}: share of Hub downloads, 2025*")
    assert "names 2 registered orgs: `Qwen`, `u3`" in text
    mine = own[list(GROUP)].sum()
    assert (
        f"• Own repos (publisher attribution): *{percent(mine / total)}* of the period's "
        f"downloads · {downloads(mine)}"
    ) in text
    families = family[list(GROUP)].sum()
    assert families > mine  # Qwen's family has others' fine-tunes
    assert (f"(lineage attribution): *{percent(families / total)}* · {downloads(families)}") in text
    assert f"• Alibaba Qwen (`Qwen`): {percent(own['Qwen'] / total)}" in text
    assert f"• U3 Alibaba (`u3`): {percent(own['u3'] / total)}" in text


def test_a_group_vs_an_org_compares_families_as_pandas(world, files, registry):
    answer = ask(world, "阿里巴巴 vs meta-llama", registry, want_chart=True)
    # The chart names the group by its orgs' ids: its font has no CJK glyphs.
    assert answer.chart is not None
    assert answer.chart.title.startswith("Qwen + u3 vs the Meta Llama family")
    assert "阿里巴巴" not in answer.chart.alt_text
    text = ask(world, "alibaba vs meta-llama", registry).text
    assert text.startswith("*The alibaba families vs the Meta Llama family*")
    assert text.index("*By lineage*") < text.index("*By publisher*")
    for attribution, names in (
        ("lineage", ("The alibaba families", "the Meta Llama family")),
        ("publisher", ("The alibaba orgs", "Meta Llama")),
    ):
        part = section(text, attribution)
        for column, measure in (("downloads", "30-day"), ("downloadsAllTime", "all-time")):
            group = weekly(files, attribution, "org", set(GROUP), column)
            llama = weekly(files, attribution, "org", {"meta-llama"}, column)
            ((day, leader),) = lead_changes(group, llama)
            assert leader == 0
            assert (
                f"{names[0]} passed {names[1]} in {measure} downloads in the week of {_day(day)}"
            ) in part
    assert "The alibaba families lead by " in text  # a plural verb for a plural subject
    # u3's downloads bring the group's crossing earlier than Qwen's alone.
    alone = ask(world, "qwen vs meta-llama", registry).text
    assert alone != text


def test_a_group_and_a_region_are_refused_against_themselves(world, registry):
    for text, message in (
        ("alibaba vs 阿里巴巴", "Both sides are the alibaba families"),
        ("eu vs europe", "Both sides are the European Union"),
    ):
        with pytest.raises(UserError) as caught:
            ask(world, text, registry)
        assert message in caught.value.message


@pytest.mark.parametrize("text", ["eu 2025", "阿里巴巴 2025", "eu vs us", "alibaba vs cn 2025"])
def test_a_region_or_group_answer_checks_out_one_connection(world, registry, text):
    assert checkouts(world, text, registry, want_chart=True) == 1


def test_regions_and_groups_on_each_database(engine, archive, files, registry):
    import_archive(engine, archive, registry)
    start, end = period_of("2025")
    by_country, total = files.period(start, end, "publisher", "country")
    eu = by_country[["FR", "DE"]].sum()
    assert (
        f"*{percent(eu / total)}* of the period's downloads"
        in ask(engine, "eu 2025", registry).text
    )
    group = weekly(files, "lineage", "org", set(GROUP), "downloadsAllTime")
    llama = weekly(files, "lineage", "org", {"meta-llama"}, "downloadsAllTime")
    ((day, _),) = lead_changes(group, llama)
    versus = ask(engine, "alibaba vs meta-llama", registry).text
    assert f"in all-time downloads in the week of {_day(day)}" in versus
