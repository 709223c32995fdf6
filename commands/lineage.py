"""``/lineage``: what a model is built on, up to its root, and what is built on it.

Chains follow each model's first parent (a merge names its other parents on the way) and stop
at a cycle or a missing parent, which are both reported. Descendants are summarised from the
snapshot's precomputed lineage stats, so a family of 150,000 repos costs one row.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.charts import Column, Node, lineage_diagram
from bot.answers.message import Answer, Chart
from bot.answers.names import (
    CountryName,
    ModelName,
    OrgName,
    country_adjective,
    resolve,
    with_article,
)
from bot.answers.render import as_of, render_message
from bot.core.registry import UNKNOWN_COUNTRY, country_name
from bot.model.aggregates import LINEAGE, ORG, org_of
from bot.model.lineage import walk_up
from bot.store.reader import LineageStat, Model, ModelStat, Reader, Snapshot
from bot.store.snapshots import is_demo_source
from commands.args import parse_args, usage_error
from commands.base import Command, Context
from commands.hubpulse import help_answer

TOP_MODELS = 5
CHART_COLUMNS = 4
RELATION_NOUNS = {
    "finetune": ("fine-tune", "fine-tunes"),
    "quantized": ("quantization", "quantizations"),
    "adapter": ("adapter", "adapters"),
    "merge": ("merge", "merges"),
    "unknown": ("derivative", "other derivatives"),
}
RELATION_VERBS = {
    "finetune": "fine-tuned from",
    "quantized": "quantized from",
    "adapter": "adapted from",
    "merge": "merged from",
}


@dataclass(frozen=True)
class Link:
    """One model on a chain; ``relation`` is how it derives from the next link (its parent)."""

    model_id: str
    org: str
    country: str
    relation: str | None
    missing: bool = False
    other_parents: tuple[str, ...] = ()

    @property
    def country_name(self) -> str:
        return country_name(self.country)

    @property
    def relation_noun(self) -> str:
        return RELATION_NOUNS.get(self.relation or "unknown", RELATION_NOUNS["unknown"])[0]


@dataclass(frozen=True)
class Lineage:
    """A model's chain, the model first and its root last."""

    links: list[Link]
    cycle_at: str | None
    truncated: bool

    @property
    def crossing(self) -> str | None:
        """A plain sentence when the chain crosses countries, e.g. "a US model fine-tuned
        from a Chinese base"; None when it stays in one (unregistered orgs do not count)."""
        path: list[str] = []
        for link in self.links:
            if link.country != UNKNOWN_COUNTRY and (not path or path[-1] != link.country):
                path.append(link.country)
        if len(path) < 2:
            return None
        names = [country_name(code) for code in path]
        start, end = country_adjective(path[0]), country_adjective(path[-1])
        if path[0] == path[-1] or start is None or end is None:
            return " → ".join(names)
        direct = len(self.links) == 2 and self.links[0].relation in RELATION_VERBS
        verb = RELATION_VERBS[self.links[0].relation or ""] if direct else "built on"
        via = f" (via {', '.join(names[1:-1])})" if len(path) > 2 else ""
        return f"{with_article(start)} model {verb} {with_article(end)} base{via}"


DIRECT_ORDER = ("finetune", "adapter", "quantized", "merge")
"""The relations the Hub's model tree counts a model's direct children by, in its order."""


def _counted(count: int, relation: str) -> str:
    singular, plural = RELATION_NOUNS.get(relation, RELATION_NOUNS["unknown"])
    return f"{count:,} {singular if count == 1 else plural}"


@dataclass(frozen=True)
class Children:
    """A model's direct children: those in the cache by relation (each declares the model in a
    ``base_model:<relation>:<id>`` tag), and the Hub's own count when it gave one."""

    by_relation: dict[str, int]
    hub: int | None

    @property
    def cached(self) -> int:
        return sum(self.by_relation.values())

    @property
    def relations(self) -> list[str]:
        """ "75 fine-tunes", "2 quantizations"...: the Hub's relations first, in its order."""
        known = [r for r in DIRECT_ORDER if self.by_relation.get(r)]
        rest = sorted(r for r, n in self.by_relation.items() if n and r not in DIRECT_ORDER)
        return [_counted(self.by_relation[r], r) for r in (*known, *rest)]

    @property
    def gap(self) -> str | None:
        """Why the cache and the Hub disagree, or that they agree; None without a Hub count."""
        if self.hub is None:
            return None
        counted = f"The Hub counts {self.hub:,} direct {'child' if self.hub == 1 else 'children'}"
        missing = self.hub - self.cached
        if missing > 0:
            verb = "is" if missing == 1 else "are"
            return (
                f"{counted}: {missing:,} {verb} not in the cache (outside the cached top "
                "models, private or deleted)."
            )
        if missing < 0:
            return (
                f"{counted}: {-missing:,} of those in the cache came after its count, or it "
                "no longer counts them (made private or deleted)."
            )
        return f"{counted}, all of them in the cache." if self.hub else None


@dataclass(frozen=True)
class Descendants:
    """Everything built on a model, at any depth (children, their children...)."""

    total: int
    relations: list[tuple[int, str]]
    downloads: int
    top: list[tuple[str, int]]
    children: Children


def _org_label(reader: Reader, author: str) -> str:
    org = reader.registry.get(author)
    return org.display_name if org else author


def trace(reader: Reader, model_id: str) -> Lineage:
    """The chain from ``model_id`` to its root, each link with org, country and whether the
    cache holds it."""
    chain = walk_up(model_id, reader.parents)
    ids = [model_id, *(step.parent for step in chain.steps)]
    stored = reader.models(ids)
    links = []
    for index, link_id in enumerate(ids):
        step = chain.steps[index] if index < len(chain.steps) else None
        author = stored[link_id].author if link_id in stored else org_of(link_id)
        links.append(
            Link(
                link_id,
                _org_label(reader, author),
                reader.registry.country_of(author),
                step.relation if step else None,
                link_id not in stored,
                step.other_parents if step else (),
            )
        )
    return Lineage(links, chain.cycle_at, chain.truncated)


def descendants(
    stat: LineageStat | None, model_stat: ModelStat | None, direct: dict[str, int]
) -> Descendants:
    children = Children(direct, model_stat.children_count if model_stat else None)
    if stat is None:
        return Descendants(0, [], 0, [], children)
    relations = sorted(
        (
            (count, RELATION_NOUNS[rel][0 if count == 1 else 1])
            for rel, count in stat.by_relation.items()
            if count
        ),
        reverse=True,
    )
    return Descendants(
        stat.descendants, relations, stat.descendant_downloads, stat.top_descendants, children
    )


def _column(lineage: Lineage, footer: str = "") -> Column:
    """The chain as a diagram column: root at the top, the model at the bottom."""
    nodes = [
        Node(link.model_id, link.org, link.country, link.relation, link.missing)
        for link in reversed(lineage.links)
    ]
    return Column(nodes, footer)


def model_lineage(reader: Reader, snapshot: Snapshot, model: Model, want_chart: bool) -> Answer:
    lineage = trace(reader, model.id)
    below = descendants(
        reader.lineage_stat(snapshot.id, model.id),
        reader.stat(snapshot.id, model.id),
        reader.children_by_relation(snapshot.id, model.id),
    )
    answer = render_message(
        "lineage_model.j2",
        model=model,
        lineage=lineage,
        below=below,
        as_of=as_of(snapshot, reader.clock.now()),
    )
    chart: Chart | None = None
    if want_chart and (len(lineage.links) > 1 or below.total):
        plural = "" if below.total == 1 else "s"
        footer = f"{below.total:,} descendant{plural}" if below.total else ""
        chart = lineage_diagram(
            f"Lineage of {model.id}",
            [_column(lineage, footer)],
            illustrative=is_demo_source(snapshot.source),
        )
    answer.chart = chart
    return answer


def org_lineage(reader: Reader, snapshot: Snapshot, org: OrgName, want_chart: bool) -> Answer:
    top = reader.top_models(snapshot.id, org.org, TOP_MODELS)
    entries = [
        (model, trace(reader, model.id), reader.lineage_stat(snapshot.id, model.id))
        for model, _ in top
    ]
    answer = render_message(
        "lineage_org.j2",
        org=org,
        entries=entries,
        family=reader.aggregate(snapshot.id, LINEAGE, ORG, org.org),
        snapshot=snapshot,
        as_of=as_of(snapshot, reader.clock.now()),
    )
    chart: Chart | None = None
    if want_chart and entries:
        derived = [lineage for _, lineage, _ in entries if len(lineage.links) > 1]
        shown = (derived or [entries[0][1]])[:CHART_COLUMNS]
        chart = lineage_diagram(
            f"Lineage of {org.display_name}'s top models",
            [_column(lineage) for lineage in shown],
            illustrative=is_demo_source(snapshot.source),
        )
    answer.chart = chart
    return answer


def run(text: str, context: Context) -> Answer:
    args = parse_args(text)
    if args.help:
        return help_answer(COMMAND)
    if not args.words:
        raise usage_error(COMMAND)
    with context.reader.session() as reader:
        snapshot = reader.latest()
        name = resolve(args.text, reader, snapshot.id)
        if isinstance(name, CountryName):
            raise usage_error(
                COMMAND,
                "`/lineage` follows models and orgs, not countries: "
                f"try `/share {name.code.lower()}`.",
            )
        if isinstance(name, ModelName):
            return args.publish(model_lineage(reader, snapshot, name.model, context.want_chart))
        return args.publish(org_lineage(reader, snapshot, name, context.want_chart))


COMMAND = Command(
    name="/lineage",
    summary="What a model is built on, up to its root, and what is built on it.",
    usage="/lineage <model | org | family>",
    examples=("/lineage cogito", "/lineage deepcogito/cogito-v2.1", "/lineage Qwen/Qwen2.5-7B"),
    run=run,
    details=(
        "For a model: each ancestor up to the root with its relation (fine-tune, quantization, "
        "adapter, merge), org and country; its direct children by relation, as the Hub's "
        "model tree counts them, beside the Hub's own count (and why they differ); then all "
        "its descendants at any depth, their downloads and the top few. For an org: its top "
        "models, each with its chain. Chains that cross countries say so; missing parents "
        "and cycles are reported."
    ),
)
