"""``/share``: download share by country, org (and its family), model or one country.

Every figure comes from the snapshot's precomputed aggregates, compared with the snapshot a
week earlier when there is one. With a period (``/share cn 2025``) or two targets
(``/share qwen vs meta-llama``) the answer comes from the archived whole-Hub weeks instead
(``commands.share_history``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.charts import country_colour
from bot.answers.message import Answer
from bot.answers.names import CountryName, GroupName, ModelName, OrgName, RegionName, resolve
from bot.answers.render import render_message
from bot.core.errors import UserError
from bot.core.registry import REGION_ONLY, UNKNOWN_COUNTRY, country_name
from bot.model.aggregates import ATTRIBUTIONS, COUNTRY, LINEAGE, ORG, PUBLISHER
from bot.model.periods import split_period
from bot.store.reader import Model, Reader
from commands.args import parse_args, usage_error
from commands.base import Command, Context
from commands.hubpulse import help_answer
from commands.share_frame import Frame, Line, common, history_chart, rows_of, standing, top_orgs
from commands.share_groups import group_share, region_share
from commands.share_history import (
    check_last_word,
    is_versus,
    misplaced_period,
    period_share,
    versus,
)
from commands.share_scopes import Figure, countries_ranked, country_rank, is_country, summed

TOP_MODELS = 5
TOP_FAMILIES = 3
OWN_MODELS_SCANNED = 200
"""An org's most downloaded models read to say which families its own repos count in."""
MAIN_COUNTRIES = ("CN", "US")
WEEKLY_BASIS = {
    "all_time": "measured from the all-time count",
    "30d": "estimated as 7/30 of the 30-day count",
}


@dataclass(frozen=True)
class ShareLine:
    label: str
    figure: Figure
    note: str = ""


def _country_lines(reader: Reader, frame: Frame, attribution: str) -> list[ShareLine]:
    """CN, US, the next largest country, the registered orgs of every other country, then the
    unregistered authors: each label stands for one figure, the one ``/share <it>`` gives."""
    rows = rows_of(reader, frame, attribution, COUNTRY)
    picked = list(MAIN_COUNTRIES)
    picked += [key for key in countries_ranked(rows.now) if key not in MAIN_COUNTRIES][:1]
    lines = [ShareLine(country_name(key), summed(rows, [key])) for key in picked]
    rest = [row.key for row in rows.now if row.key not in picked and row.key != UNKNOWN_COUNTRY]
    if rest:
        count = sum(1 for key in rest if is_country(key))
        label = f"{count} more {'country' if count == 1 else 'countries'}" if count else "Others"
        note = "registered orgs"
        if any(key in REGION_ONLY for key in rest):
            note += ", some with their region only"
        lines.append(ShareLine(label, summed(rows, rest), note))
    unregistered = summed(rows, [UNKNOWN_COUNTRY])
    lines.append(ShareLine("Unregistered authors", unregistered, "not in the org registry"))
    return lines


def overview(reader: Reader, frame: Frame, want_chart: bool) -> Answer:
    views = [
        ("publisher", "who uploaded each model", _country_lines(reader, frame, PUBLISHER)),
        (
            "lineage",
            "whose base model each model is built on",
            _country_lines(reader, frame, LINEAGE),
        ),
    ]
    answer = render_message("share_overview.j2", views=views, **common(reader, frame))
    chart = None
    if want_chart:
        chart = history_chart(
            reader,
            "Share of Hub downloads: China vs United States",
            COUNTRY,
            [Line(country_name(key), [key], country_colour(key)) for key in MAIN_COUNTRIES],
            ("(publisher)", "(lineage)"),
        )
    answer.chart = chart
    return answer


@dataclass(frozen=True)
class Elsewhere:
    """The downloads of an org's own repos that count in other families (built on other
    orgs' bases), and the largest of those families: (key, name, share)."""

    share: float
    families: list[tuple[str, str, float]]


def _elsewhere(reader: Reader, frame: Frame, org: str) -> Elsewhere:
    """Which families an org's own repos count in, by root, other than its own: from its
    most downloaded models (those in the share denominator)."""
    total = frame.snapshot.downloads_total
    by_family: dict[str, float] = {}
    for _, stat in reader.top_models(frame.snapshot.id, org, OWN_MODELS_SCANNED):
        if stat.in_top and stat.family and stat.family.lower() != org.lower() and total:
            by_family[stat.family] = by_family.get(stat.family, 0.0) + stat.downloads / total
    ranked = sorted(by_family.items(), key=lambda item: (-item[1], item[0]))[:TOP_FAMILIES]
    named = []
    for key, share in ranked:
        family_org = reader.registry.get(key)
        named.append((key, family_org.display_name if family_org else key, share))
    return Elsewhere(sum(by_family.values()), named)


def org_share(reader: Reader, frame: Frame, org: OrgName, want_chart: bool) -> Answer:
    top = reader.top_models(frame.snapshot.id, org.org, TOP_MODELS)
    downloads_total = frame.snapshot.downloads_total
    models = [
        (model, stat, stat.downloads / downloads_total if stat.in_top and downloads_total else None)
        for model, stat in top
    ]
    own = standing(reader, frame, PUBLISHER, ORG, org.org)
    family = standing(reader, frame, LINEAGE, ORG, org.org)
    smaller = own.row is not None and family.share < own.share
    answer = render_message(
        "share_org.j2",
        org=org,
        own=own,
        family=family,
        elsewhere=_elsewhere(reader, frame, org.org) if smaller else None,
        models=models,
        **common(reader, frame),
    )
    chart = None
    if want_chart:
        chart = history_chart(
            reader,
            f"{org.display_name}: share of Hub downloads",
            ORG,
            [Line(org.display_name, [org.org], "C0")],
            ("own repos", "whole family"),
        )
    answer.chart = chart
    return answer


def model_share(reader: Reader, frame: Frame, model: Model) -> Answer:
    snapshot = frame.snapshot
    stat = reader.stat(snapshot.id, model.id)
    share = (
        stat.downloads / snapshot.downloads_total
        if stat and stat.in_top and snapshot.downloads_total
        else None
    )
    family = stat.family if stat else None
    family_org = reader.registry.get(family) if family else None
    answer = render_message(
        "share_model.j2",
        model=model,
        stat=stat,
        share=share,
        basis=WEEKLY_BASIS.get(stat.weekly_basis or "", "") if stat else "",
        publisher=reader.registry.get(model.author),
        country=country_name(reader.registry.country_of(model.author)),
        parents=reader.parents(model.id),
        family=family,
        family_name=family_org.display_name if family_org else family,
        family_standing=standing(reader, frame, LINEAGE, ORG, family) if family else None,
        **common(reader, frame),
    )
    return answer


def country_share(reader: Reader, frame: Frame, code: str, want_chart: bool) -> Answer:
    """A country, or the unregistered authors (``ZZ``, never ranked among countries)."""
    name = "Unregistered authors" if code == UNKNOWN_COUNTRY else country_name(code)
    figures = {}
    for attribution in ATTRIBUTIONS:
        rows = rows_of(reader, frame, attribution, COUNTRY)
        rank = country_rank(rows.now, code) if is_country(code) else None
        figures[attribution] = summed(rows, [code], rank)
    keys = (
        None if code == UNKNOWN_COUNTRY else [o.org for o in reader.registry if o.country == code]
    )
    answer = render_message(
        "share_country.j2",
        unregistered_orgs=code == UNKNOWN_COUNTRY,
        name=name,
        publisher=figures[PUBLISHER],
        lineage=figures[LINEAGE],
        orgs=top_orgs(reader, frame, keys),
        **common(reader, frame),
    )
    chart = None
    if want_chart:
        chart = history_chart(
            reader,
            f"{name}: share of Hub downloads",
            COUNTRY,
            [Line(name, [code], country_colour(code))],
            ("(publisher)", "(lineage)"),
        )
    answer.chart = chart
    return answer


def run(text: str, context: Context) -> Answer:
    args = parse_args(text)
    if args.help:
        return help_answer(COMMAND)
    with context.reader.session() as reader:  # every fact of the answer on one connection
        if is_versus(args.words):
            return args.publish(versus(reader, args.words, context.want_chart))
        words, period = split_period(args.words, reader.clock.now().date())
        if period is not None and not period.needs_history:
            period = None  # 30d: the live snapshot, as with no period
        try:
            check_last_word(words)
        except UserError as exc:  # a malformed period: the usage shows where periods go
            raise usage_error(COMMAND, exc.message) from None
        if period is not None:
            return args.publish(period_share(reader, words, period))
        frame = Frame.latest(reader)
        if not words:
            return args.publish(overview(reader, frame, context.want_chart))
        try:
            name = resolve(" ".join(words), reader, frame.snapshot.id, groups=True)
        except UserError:
            try:
                misplaced_period(words, versus=False)
            except UserError as exc:
                raise usage_error(COMMAND, exc.message) from None
            raise
        if isinstance(name, OrgName):
            answer = org_share(reader, frame, name, context.want_chart)
        elif isinstance(name, ModelName):
            answer = model_share(reader, frame, name.model)
        elif isinstance(name, RegionName):
            answer = region_share(reader, frame, name.region, context.want_chart)
        elif isinstance(name, GroupName):
            answer = group_share(reader, frame, name, context.want_chart)
        else:
            assert isinstance(name, CountryName)
            answer = country_share(reader, frame, name.code, context.want_chart)
    return args.publish(answer)


COMMAND = Command(
    name="/share",
    summary=(
        "Share of Hub downloads by country, org, family or model, over any period, "
        "or two head to head."
    ),
    usage="/share [org | family | model | country | region] [vs another] [period]",
    examples=(
        "/share",
        "/share qwen",
        "/share deepseek-ai/DeepSeek-R1",
        "/share cn",
        "/share eu",
        "/share 通义千问",
        "/share cn 2025",
        "/share qwen 2025-Q3",
        "/share since 2025-01-20",
        "/share all-time",
        "/share qwen vs meta-llama",
        "/share cn vs us 2025",
    ),
    run=run,
    details=(
        "With nothing after it: China, the US, the next largest country and everyone else, "
        "by publisher (who uploaded the model) and by lineage (whose base model it is built on). "
        "With an org or family: its share, rank, its whole family's share and its top models. "
        "With a model id: its downloads, share and family. With a country: its share, rank "
        "among countries and top orgs; with a region (`eu`, `other`, `unknown`; `us` and "
        "`china` are countries) the same for its countries together. A name that stands for "
        "several orgs (`阿里巴巴`, `智谱`) answers for them together. Authors not in the org "
        "registry are `unregistered`, never a country; every answer says how much of the "
        "downloads they hold. Shares are of the snapshot's top-N models' 30-day downloads.\n"
        "A period at the end (`30d`, the default; `2025`, `2025-Q3`, `since 2025-01-20`, "
        "`all-time`) answers for orgs, families, countries, regions and names of several orgs "
        "(`/share eu 2025`) from the archived weekly "
        "snapshots of the whole Hub (`hubpulse backfill`): the growth of all-time downloads "
        "between the weeks at the period's ends (7/30 of each week's 30-day downloads before "
        "the archive had all-time counts), or all-time downloads for `all-time`.\n"
        "`vs` puts two targets head to head over the archived weeks: who leads, by how much, "
        "and the week the lead changed hands, in 30-day and all-time downloads. Orgs are "
        "compared as families (lineage) and countries by publisher first; add `publisher` "
        "or `lineage` at the end to lead with the other."
    ),
)
