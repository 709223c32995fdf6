"""``/releases``: models that registered orgs created in the last few days, newest first; or,
given a period (``2025``, ``since 2025-01``...), their repos counted by month from the archived
whole-Hub history.

Quantized re-uploads (GGUF, AWQ, MLX...) are left out of the last days unless ``all`` is given;
they would otherwise drown the real releases. The archive counts every repo, so the monthly
counts include them (``bot.model.release_months`` says how weeks become months).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bot.answers.message import Answer
from bot.answers.mrkdwn import echo, escape, inline
from bot.answers.names import CountryName, GroupName, ModelName, OrgName, RegionName, resolve
from bot.answers.render import as_of, render_message
from bot.core.errors import UserError
from bot.core.registry import UNKNOWN_COUNTRY, country_name
from bot.model.periods import ALL_TIME, LAST_30_DAYS, SINCE, Period, day_label, split_period
from bot.model.records import looks_quantized
from bot.model.release_months import (
    MIDDLE,
    MonthCount,
    ReleaseMonths,
    Span,
    month_of,
    release_months,
)
from bot.store.reader import Model, ModelStat, Reader, Snapshot
from bot.store.snapshots import is_demo_source
from commands.args import Args, parse_args, usage_error
from commands.base import Command, Context
from commands.hubpulse import help_answer

DEFAULT_DAYS = 7
MAX_DAYS = 90
PER_ORG = 8
MAX_ORGS = 12
ALL_WORD = "all"
DAYS = re.compile(r"^(\d{1,4})(d|days?)?$", re.IGNORECASE)
MALFORMED = re.compile(r"^[-+\u2212]|^\d[\d\-/.:]*$|^\d{4}-?q\d*$|^\d+(d|days?)$|^since$", re.I)
"""Words that mean to be a number of days or a period but are neither (``-3``, ``2025-13``,
``2025-Q5``): a usage error, never a name to look up (no Hub name starts with ``-``)."""
FAMILY_WORDS = frozenset({"family", "families"})
FIRST_WEEK = timedelta(days=7)
LAST_30 = 30
TOP_ORGS = 5
MISSING_LISTED = 4
BAR, BAR_WIDTH = "\u2587", 16
CREATED_AT = "createdAt"
"""The archive's column of creation times: a week without it cannot count releases."""


@dataclass(frozen=True)
class Query:
    name: str
    days: int
    include_quantized: bool
    period: Period | None = None
    """Set: counts by month from the archived history instead of the last days' models."""


@dataclass(frozen=True)
class Release:
    model: Model
    stat: ModelStat | None
    age_days: int | None
    """Whole days between creation and the snapshot when the model was under a week old then:
    its 30-day count is then all its downloads so far."""


@dataclass
class Group:
    org: str
    name: str
    country: str
    releases: list[Release] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.releases)


def parse_query(args: Args, today: date) -> Query:
    """``qwen 14 all`` -> name "qwen", 14 days, quantizations included; ``baidu 2025`` ->
    name "baidu", the year 2025 (``bot.model.periods``)."""
    words = [word for word in args.words if word.lower() != ALL_WORD]
    include_quantized = len(words) < len(args.words)
    if any(word.lower() in FAMILY_WORDS for word in words):
        raise usage_error(
            COMMAND,
            "`/releases` counts the repos an org publishes itself; releases of a family "
            "(fine-tunes of its models by others) are not kept. `/share qwen` shows a family.",
        )
    rest, period = split_period(tuple(words), today)
    words = list(rest)
    days = DEFAULT_DAYS
    if period is not None and period.kind == LAST_30_DAYS:
        period, days = None, LAST_30
    elif period is None:
        if words and words[-1].lower() in ("day", "days") and len(words) > 1:
            words = words[:-1]
        if words and (match := DAYS.match(words[-1])):
            days = int(match.group(1))
            words = words[:-1]
            if not 1 <= days <= MAX_DAYS:
                raise usage_error(COMMAND, f"The window is 1 to {MAX_DAYS} days.")
    _check_words(words, period)
    return Query(" ".join(words), days, include_quantized, period)


def _check_words(words: list[str], period: Period | None) -> None:
    """A malformed window or period is a usage error, not part of a name."""
    odd = [w for w in words if w.startswith(("-", "+", "\u2212"))]
    odd += [w for w in words[-1:] if MALFORMED.match(w)]
    if period is not None and words and DAYS.match(words[-1]):
        raise usage_error(COMMAND, "Give a number of days or a period, not both.")
    if odd:
        raise usage_error(
            COMMAND,
            f"{echo(odd[0])} is neither a number of days (1 to {MAX_DAYS}) nor a period "
            "(`2025`, `2025-Q3`, `since 2025-01`, `all-time`).",
        )


@dataclass(frozen=True)
class Scope:
    """What an answer is about, and the authors whose releases count."""

    label: str
    authors: list[str]
    registered: bool = True
    country: str = ""
    """The country's name when the scope is a country."""


def _scope(reader: Reader, snapshot_id: int, name: str) -> Scope:
    registry = reader.registry
    if not name:
        return Scope("registered orgs", [org.org for org in registry])
    resolved = resolve(name, reader, snapshot_id, groups=True)
    if isinstance(resolved, ModelName):
        raise usage_error(COMMAND, "`/releases` takes an org or a country, not a model.")
    if isinstance(resolved, RegionName):
        authors = [org.org for org in registry.in_region(resolved.region)]
        return Scope(f"{resolved.name} (registered orgs)", authors, country=resolved.name)
    if isinstance(resolved, GroupName):
        return Scope(resolved.label, [org.org for org in resolved.orgs])
    if isinstance(resolved, CountryName):
        if resolved.code == UNKNOWN_COUNTRY:
            raise usage_error(COMMAND, "Releases are followed for registered orgs only.")
        authors = [org.org for org in registry if org.country == resolved.code]
        return Scope(f"{resolved.name} (registered orgs)", authors, country=resolved.name)
    assert isinstance(resolved, OrgName)
    return Scope(resolved.display_name, [resolved.org], resolved.registered)


def _groups(reader: Reader, snapshot: Snapshot, models: list[Model]) -> list[Group]:
    """Releases by org, orgs in order of their newest release; only shown ones get stats."""
    groups: dict[str, Group] = {}
    shown: dict[str, list[Model]] = {}
    for model in models:
        group = groups.get(model.author)
        if group is None:
            if len(groups) == MAX_ORGS:
                continue
            org = reader.registry.get(model.author)
            group = groups[model.author] = Group(
                model.author,
                org.display_name if org else model.author,
                country_name(reader.registry.country_of(model.author)),
            )
            shown[model.author] = []
        group.total += 1
        if len(shown[model.author]) < PER_ORG:
            shown[model.author].append(model)
    stats = reader.stats(snapshot.id, [model.id for listed in shown.values() for model in listed])
    for author, group in groups.items():
        group.releases = [_counted(m, stats.get(m.id), snapshot) for m in shown[author]]
    return list(groups.values())


def _counted(model: Model, stat: ModelStat | None, snapshot: Snapshot) -> Release:
    age = snapshot.taken_at - model.created_at if model.created_at else None
    young = age is not None and age <= FIRST_WEEK  # negative: created during the crawl
    days = math.ceil(age / timedelta(days=1)) if young and age is not None else None
    return Release(model, stat, max(days, 1) if days is not None else None)


def releases(reader: Reader, query: Query) -> Answer:
    snapshot = reader.latest()
    scope = _scope(reader, snapshot.id, query.name)
    now = reader.clock.now()
    found = reader.created_between(now - timedelta(days=query.days), now, scope.authors)
    kept = [m for m in found if query.include_quantized or not looks_quantized(m.id, m.tags)]
    groups = _groups(reader, snapshot, kept)
    answer = render_message(
        "releases.j2",
        scope=scope.label,
        query=query,
        groups=groups,
        shown_orgs=len(groups),
        all_orgs=len({m.author for m in kept}),
        hidden=len(found) - len(kept),
        uncounted=any(r.stat is None for g in groups for r in g.releases),
        as_of=as_of(snapshot, now),
    )
    return answer


@dataclass(frozen=True)
class MonthLine:
    count: MonthCount
    label: str
    bar: str


def _month_lines(found: ReleaseMonths, period: Period) -> list[tuple[int, list[MonthLine]]]:
    """The months by year, each with a bar scaled to the busiest month."""
    peak = max((m.repos for m in found.months), default=0)
    years: dict[int, list[MonthLine]] = {}
    for month in found.months:
        label = f"{month.month:%b %Y}"
        if month.month == month_of(period.start) and period.start.day > 1:
            label += f" (from {period.start.day} {period.start:%b})"
        bar = BAR * max(1, round(BAR_WIDTH * month.repos / peak)) if month.repos else ""
        years.setdefault(month.month.year, []).append(MonthLine(month, label, bar))
    return list(years.items())


def _spans(spans: list[Span]) -> list[str]:
    """Runs of months as people write them: "Jan to May 2025", "Aug 2025"."""
    said = []
    for span in spans:
        if span.first == span.last:
            said.append(f"{span.last:%b %Y}")
        elif span.first.year == span.last.year:
            said.append(f"{span.first:%b} to {span.last:%b %Y}")
        else:
            said.append(f"{span.first:%b %Y} to {span.last:%b %Y}")
    return said


def _during(period: Period) -> str:
    """The period after a count: "in 2025", "since 1 Jan 2025", "over all time"."""
    if period.kind == SINCE:
        return period.label
    return f"over {period.label}" if period.kind == ALL_TIME else f"in {period.label}"


def _history_scope(reader: Reader, snapshot: Snapshot | None, name: str) -> Scope:
    # Without a snapshot of our own, names still resolve against the registry and the models
    # table; snapshot 0 has no rows, so only unregistered authors are not found.
    scope = _scope(reader, snapshot.id if snapshot else 0, name)
    if not scope.registered:
        raise UserError(
            f"{echo(scope.authors[0])} is not a registered org: the archive counts the "
            "releases of registered orgs only."
        )
    if not scope.authors:
        raise UserError(
            f"No registered org is from {escape(scope.country)}: "
            "the archive counts registered orgs only."
        )
    return scope


def monthly_releases(reader: Reader, name: str, period: Period) -> Answer:
    """Repos created per month in ``period`` from the archived weeks, with the first and
    latest named from hubpulse's own snapshots."""
    snapshot = reader.latest_or_none()
    scope = _history_scope(reader, snapshot, name)
    history = reader.weeks
    weeks = history.weeks()
    if not weeks:
        raise UserError(
            "There is no whole-Hub history yet (`hubpulse backfill` imports it); "
            f"`/releases {inline(name) + ' ' if name else ''}30` lists the last 30 days."
        )
    undated = history.without(CREATED_AT)
    counted = [week for week in weeks if week.day not in undated]
    counts = history.releases(scope.authors, period.start - MIDDLE, period.end - MIDDLE)
    found = release_months(counts, [week.day for week in counted], period.start, period.end)
    if found is None:
        raise UserError(
            f"No archived week falls in {escape(period.label)}: the history has the weeks of "
            f"{day_label(weeks[0].day)} to {day_label(weeks[-1].day)}."
        )
    found_weeks = set(found.weeks)
    used = [week for week in counted if week.day in found_weeks]
    named = None
    if snapshot is not None and found.total:
        named = history.first_and_latest(
            scope.authors,
            _utc(max(period.start, found.first_week)),
            _utc(min(period.end, found.covered_until)),
        )
    top = []
    for org, repos in found.by_org.items():
        known = reader.registry.get(org)
        top.append((known.display_name if known else org, repos))
    return render_message(
        "releases_monthly.j2",
        scope=scope.label,
        single_org=len(scope.authors) == 1,
        orgs=len(scope.authors),
        period=period,
        found=found,
        years=_month_lines(found, period),
        during=_during(period),
        without=_spans(found.months_with_none()),
        unarchived=_spans(found.months_unarchived()),
        top=top[:TOP_ORGS],
        more_orgs=max(0, len(top) - TOP_ORGS),
        sources=sorted({week.source for week in used}),
        illustrative=any(is_demo_source(week.source) for week in used),
        missing=found.missing[:MISSING_LISTED],
        more_missing=max(0, len(found.missing) - MISSING_LISTED),
        history_start=weeks[0].day,
        snapshot=snapshot,
        named=named,
        name=name,
    )


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def run(text: str, context: Context) -> Answer:
    args = parse_args(text)
    if args.help:
        return help_answer(COMMAND)
    with context.reader.session() as reader:
        query = parse_query(args, reader.clock.now().date())
        if query.period is not None:
            return args.publish(monthly_releases(reader, query.name, query.period))
        return args.publish(releases(reader, query))


COMMAND = Command(
    name="/releases",
    summary="New models of registered orgs in the last days, or counted by month over a period.",
    usage="/releases [org | country | region] [days | period] [all]",
    examples=(
        "/releases",
        "/releases deepseek",
        "/releases cn 14",
        "/releases qwen all",
        "/releases baidu 2025",
        "/releases cn since 2025-01",
        "/releases eu 2025",
    ),
    run=run,
    details=(
        f"Looks back {DEFAULT_DAYS} days unless you give a number (up to {MAX_DAYS}). "
        "Shows downloads in a release's first days where the snapshot has them. Quantized "
        "re-uploads (GGUF, AWQ, MLX...) are left out unless you add `all`. With a period "
        "(`2025`, `2025-Q3`, `since 2025-01`, `all-time`), counts the repos created each month "
        "from the archived weekly snapshots of the whole Hub (quantizations included; a week "
        "spanning two months counts in the month holding most of its days), with the months "
        "with none and the first and latest releases. Counts cover registered orgs' own repos: "
        "a country or a region (`eu`, `other`, `unknown`) is the sum of its registered orgs, "
        "and so is a name that stands for several orgs (`阿里巴巴`); a family's fine-tunes are "
        "not counted."
    ),
)
