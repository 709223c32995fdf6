"""``/releases``: models that registered orgs created in the last few days, newest first.

Quantized re-uploads (GGUF, AWQ, MLX...) are left out unless ``all`` is given; they would
otherwise drown the real releases.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import timedelta

from bot.answers.message import Answer
from bot.answers.names import CountryName, ModelName, OrgName, resolve
from bot.answers.render import as_of, render_message
from bot.core.registry import UNKNOWN_COUNTRY, country_name
from bot.model.records import looks_quantized
from bot.store.reader import Model, ModelStat, Reader, Snapshot
from commands.args import Args, parse_args, usage_error
from commands.base import Command, Context
from commands.hubpulse import help_answer

DEFAULT_DAYS = 7
MAX_DAYS = 90
PER_ORG = 8
MAX_ORGS = 12
ALL_WORD = "all"
DAYS = re.compile(r"^(\d{1,4})(d|days?)?$", re.IGNORECASE)
FIRST_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Query:
    name: str
    days: int
    include_quantized: bool


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


def parse_query(args: Args) -> Query:
    """``qwen 14 all`` -> name "qwen", 14 days, quantizations included."""
    words = list(args.words)
    include_quantized = any(word.lower() == ALL_WORD for word in words)
    words = [word for word in words if word.lower() != ALL_WORD]
    days = DEFAULT_DAYS
    if words and words[-1].lower() in ("day", "days") and len(words) > 1:
        words = words[:-1]
    if words and (match := DAYS.match(words[-1])):
        days = int(match.group(1))
        words = words[:-1]
        if not 1 <= days <= MAX_DAYS:
            raise usage_error(COMMAND, f"The window is 1 to {MAX_DAYS} days.")
    return Query(" ".join(words), days, include_quantized)


def _scope(reader: Reader, snapshot: Snapshot, name: str) -> tuple[str, list[str]]:
    """What the answer is about, and the authors whose releases count."""
    registry = reader.registry
    if not name:
        return "registered orgs", [org.org for org in registry]
    resolved = resolve(name, reader, snapshot.id)
    if isinstance(resolved, ModelName):
        raise usage_error(COMMAND, "`/releases` takes an org or a country, not a model.")
    if isinstance(resolved, CountryName):
        if resolved.code == UNKNOWN_COUNTRY:
            raise usage_error(COMMAND, "Releases are followed for registered orgs only.")
        authors = [org.org for org in registry if org.country == resolved.code]
        return f"{resolved.name} (registered orgs)", authors
    assert isinstance(resolved, OrgName)
    return resolved.display_name, [resolved.org]


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
    scope, authors = _scope(reader, snapshot, query.name)
    now = reader.clock.now()
    found = reader.created_between(now - timedelta(days=query.days), now, authors)
    kept = [m for m in found if query.include_quantized or not looks_quantized(m.id, m.tags)]
    groups = _groups(reader, snapshot, kept)
    answer = render_message(
        "releases.j2",
        scope=scope,
        query=query,
        groups=groups,
        shown_orgs=len(groups),
        all_orgs=len({m.author for m in kept}),
        hidden=len(found) - len(kept),
        uncounted=any(r.stat is None for g in groups for r in g.releases),
        as_of=as_of(snapshot, now),
    )
    return answer


def run(text: str, context: Context) -> Answer:
    args = parse_args(text)
    if args.help:
        return help_answer(COMMAND)
    with context.reader.session() as reader:
        return args.publish(releases(reader, parse_query(args)))


COMMAND = Command(
    name="/releases",
    summary="Models registered orgs released in the last days, newest first, grouped by org.",
    usage="/releases [org | country] [days] [all]",
    examples=("/releases", "/releases deepseek", "/releases cn 14", "/releases qwen all"),
    run=run,
    details=(
        f"Looks back {DEFAULT_DAYS} days unless you give a number (up to {MAX_DAYS}). "
        "Shows downloads in a release's first days where the snapshot has them. Quantized "
        "re-uploads (GGUF, AWQ, MLX...) are left out unless you add `all`."
    ),
)
