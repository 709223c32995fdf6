"""Per-snapshot aggregates, computed once when a snapshot is written.

Two attributions of each download:

* publisher: the country of the org that owns the repo;
* lineage: the country of the model's root base model, so a third-party GGUF of a Qwen model
  counts as Chinese. A merge of several roots is split equally between them.

Only the snapshot's top-N models (its denominator) enter country, org and family totals, so the
shares of one level always add up to 100%.
"""

from __future__ import annotations

import heapq
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.lineage import Tree
from bot.records import RELATIONS, UNKNOWN_RELATION, ModelRecord
from bot.registry import Registry

PUBLISHER = "publisher"
LINEAGE = "lineage"
ATTRIBUTIONS = (PUBLISHER, LINEAGE)
COUNTRY = "country"
ORG = "org"
ORG_ROWS_KEPT = 500
TOP_DESCENDANTS = 5


@dataclass(frozen=True)
class AggregateRow:
    attribution: str
    level: str
    key: str
    downloads: float
    models: int
    share: float
    rank: int


@dataclass(frozen=True)
class LineageStat:
    model_id: str
    descendants: int
    by_relation: dict[str, int]
    descendant_downloads: int
    top_descendants: list[tuple[str, int]]

    def top_json(self) -> str:
        return json.dumps(self.top_descendants, separators=(",", ":"))


def org_of(model_id: str) -> str:
    return model_id.split("/", 1)[0]


def _ranked(
    attribution: str,
    level: str,
    downloads: Mapping[str, float],
    members: Mapping[str, int],
    total: float,
    keep: set[str] | None,
) -> list[AggregateRow]:
    ordered = sorted(downloads.items(), key=lambda item: (-item[1], item[0]))
    rows = []
    for rank, (key, value) in enumerate(ordered, start=1):
        if keep is not None and rank > ORG_ROWS_KEPT and key.lower() not in keep:
            continue
        share = value / total if total else 0.0
        rows.append(AggregateRow(attribution, level, key, value, members[key], share, rank))
    return rows


def compute_aggregates(
    top: Iterable[ModelRecord], tree: Tree, registry: Registry
) -> list[AggregateRow]:
    """Country, org and family totals of the top-N models, in both attributions."""
    sums: dict[tuple[str, str], defaultdict[str, float]] = {
        (a, lvl): defaultdict(float) for a in ATTRIBUTIONS for lvl in (COUNTRY, ORG)
    }
    counts: dict[tuple[str, str], defaultdict[str, int]] = {
        (a, lvl): defaultdict(int) for a in ATTRIBUTIONS for lvl in (COUNTRY, ORG)
    }
    country_cache: dict[str, str] = {}

    def country(author: str) -> str:
        code = country_cache.get(author)
        if code is None:
            code = country_cache[author] = registry.country_of(author)
        return code

    total = 0
    for record in top:
        downloads = record.downloads
        total += downloads
        author = record.author
        sums[PUBLISHER, COUNTRY][country(author)] += downloads
        counts[PUBLISHER, COUNTRY][country(author)] += 1
        sums[PUBLISHER, ORG][author] += downloads
        counts[PUBLISHER, ORG][author] += 1
        roots = tree.roots_of(record.id)
        weight = downloads / len(roots)
        root_orgs = set()
        root_countries = set()
        for root in roots:
            root_org = author if root == record.id else org_of(root)
            sums[LINEAGE, ORG][root_org] += weight
            sums[LINEAGE, COUNTRY][country(root_org)] += weight
            root_orgs.add(root_org)
            root_countries.add(country(root_org))
        for root_org in root_orgs:
            counts[LINEAGE, ORG][root_org] += 1
        for code in root_countries:
            counts[LINEAGE, COUNTRY][code] += 1
    keep = set(registry.orgs)
    rows: list[AggregateRow] = []
    for attribution in ATTRIBUTIONS:
        for level in (COUNTRY, ORG):
            rows += _ranked(
                attribution,
                level,
                sums[attribution, level],
                counts[attribution, level],
                total,
                keep if level == ORG else None,
            )
    return rows


def family_of(record: ModelRecord, tree: Tree) -> str:
    """The org of the model's (first) root: the family it belongs to."""
    roots = tree.roots_of(record.id)
    return record.author if roots[0] == record.id else org_of(roots[0])


def compute_lineage_stats(records: Mapping[str, ModelRecord], tree: Tree) -> list[LineageStat]:
    """Descendant counts per relation, their downloads and the top few, for every ancestor.

    A descendant counts under the relation of its own link to its parent (a GGUF of a
    fine-tune of X is a quantized descendant of X).
    """
    by_relation: dict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    downloads: defaultdict[str, int] = defaultdict(int)
    top: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
    for model_id, above in tree.ancestors.items():
        record = records.get(model_id)
        if record is None:
            continue
        relation = record.parents[0].relation if record.parents else UNKNOWN_RELATION
        value = record.downloads
        for ancestor in above:
            by_relation[ancestor][relation] += 1
            downloads[ancestor] += value
            heap = top[ancestor]
            if len(heap) < TOP_DESCENDANTS:
                heapq.heappush(heap, (value, model_id))
            elif (value, model_id) > heap[0]:
                heapq.heapreplace(heap, (value, model_id))
    stats = []
    for ancestor, relations in by_relation.items():
        counted = {r: relations.get(r, 0) for r in (*RELATIONS, UNKNOWN_RELATION)}
        best = sorted(top[ancestor], key=lambda item: (-item[0], item[1]))
        stats.append(
            LineageStat(
                ancestor,
                sum(counted.values()),
                counted,
                downloads[ancestor],
                [(model_id, value) for value, model_id in best],
            )
        )
    return stats
