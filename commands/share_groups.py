"""``/share eu`` and ``/share 阿里巴巴``: a region (its countries summed) or the orgs one name
stands for (their own repos and families summed), each with its members."""

from __future__ import annotations

from collections.abc import Sequence

from bot.answers.message import Answer, Chart
from bot.answers.names import GroupName
from bot.answers.render import render_message
from bot.core.registry import country_name, region_name
from bot.model.aggregates import ATTRIBUTIONS, COUNTRY, LINEAGE, ORG, PUBLISHER
from bot.store.reader import Reader
from commands.share_frame import TOP_ORGS, Frame, Line, common, history_chart, rows_of, top_orgs
from commands.share_scopes import is_country, region_countries, region_rank, summed

GROUP_LABEL_ORGS = 3
"""A group's chart names up to this many orgs, then counts the rest."""


def group_label(keys: Sequence[str]) -> str:
    """A group as charts name it: by its orgs' ids (the charts' font has no CJK glyphs for a
    name like 阿里巴巴), the first one and a count past ``GROUP_LABEL_ORGS``."""
    if len(keys) > GROUP_LABEL_ORGS:
        return f"{keys[0]} + {len(keys) - 1} more orgs"
    return " + ".join(keys)


def _summed_chart(
    reader: Reader, title: str, level: str, label: str, keys: list[str]
) -> Chart | None:
    """Share over time of several keys summed in one line."""
    lines = [Line(label, keys, "C0")]
    return history_chart(reader, title, level, lines, ("(publisher)", "(lineage)"))


def region_share(reader: Reader, frame: Frame, region: str, want_chart: bool) -> Answer:
    """A region: the sum of its countries, its rank among regions, its countries and orgs."""
    name = region_name(region)
    rows = {
        attribution: rows_of(reader, frame, attribution, COUNTRY) for attribution in ATTRIBUTIONS
    }
    members = {
        attribution: region_countries(rows[attribution].now, region) for attribution in ATTRIBUTIONS
    }
    figures = {
        attribution: summed(
            rows[attribution], members[attribution], region_rank(rows[attribution].now, region)
        )
        for attribution in ATTRIBUTIONS
    }
    countries = [
        (country_name(row.key), row.share)
        for row in rows[PUBLISHER].now
        if is_country(row.key) and row.key in members[PUBLISHER]
    ][:TOP_ORGS]
    answer = render_message(
        "share_region.j2",
        region=region,
        name=name,
        publisher=figures[PUBLISHER],
        lineage=figures[LINEAGE],
        countries=countries,
        orgs=top_orgs(reader, frame, [org.org for org in reader.registry.in_region(region)]),
        **common(reader, frame),
    )
    keys = sorted({code for codes in members.values() for code in codes})
    if want_chart and keys:
        answer.chart = _summed_chart(reader, f"{name}: share of Hub downloads", COUNTRY, name, keys)
    return answer


def group_share(reader: Reader, frame: Frame, group: GroupName, want_chart: bool) -> Answer:
    """Several orgs one name stands for: their own repos and their families summed, and the
    largest of them."""
    keys = [org.org for org in group.orgs]
    figures = {
        attribution: summed(rows_of(reader, frame, attribution, ORG, keys), keys)
        for attribution in ATTRIBUTIONS
    }
    answer = render_message(
        "share_group.j2",
        group=group,
        own=figures[PUBLISHER],
        family=figures[LINEAGE],
        orgs=top_orgs(reader, frame, keys),
        **common(reader, frame),
    )
    if want_chart:
        label = group_label(keys)
        answer.chart = _summed_chart(reader, f"{label}: share of Hub downloads", ORG, label, keys)
    return answer
