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
from collections import Counter, defaultdict
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
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":")).encode
TOP_DESCENDANTS = 5
MANY_DESCENDANTS = 32
ALL_RELATIONS = (*RELATIONS, UNKNOWN_RELATION)


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
        return _COMPACT_JSON(self.top_descendants)


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
    # One loop over up to hundreds of thousands of models: the eight tallies are locals.
    publisher_country, publisher_org = sums[PUBLISHER, COUNTRY], sums[PUBLISHER, ORG]
    lineage_country, lineage_org = sums[LINEAGE, COUNTRY], sums[LINEAGE, ORG]
    publisher_country_n, publisher_org_n = counts[PUBLISHER, COUNTRY], counts[PUBLISHER, ORG]
    lineage_country_n, lineage_org_n = counts[LINEAGE, COUNTRY], counts[LINEAGE, ORG]
    country_cache: dict[str, str] = {}
    roots_of = tree.roots.get

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
        code = country(author)
        publisher_country[code] += downloads
        publisher_country_n[code] += 1
        publisher_org[author] += downloads
        publisher_org_n[author] += 1
        roots = roots_of(record.id)
        if roots is None or (len(roots) == 1 and roots[0] == record.id):
            lineage_org[author] += downloads
            lineage_country[code] += downloads
            lineage_org_n[author] += 1
            lineage_country_n[code] += 1
            continue
        weight = downloads / len(roots)
        root_orgs = set()
        root_countries = set()
        for root in roots:
            root_org = author if root == record.id else org_of(root)
            root_code = country(root_org)
            lineage_org[root_org] += weight
            lineage_country[root_code] += weight
            root_orgs.add(root_org)
            root_countries.add(root_code)
        for root_org in root_orgs:
            lineage_org_n[root_org] += 1
        for root_code in root_countries:
            lineage_country_n[root_code] += 1
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
    descendants: defaultdict[str, list[str]] = defaultdict(list)
    relation_of: dict[str, str] = {}
    downloads_of: dict[str, int] = {}
    for model_id, above in tree.ancestors.items():
        record = records.get(model_id)
        if record is None:
            continue
        relation_of[model_id] = record.parents[0].relation if record.parents else UNKNOWN_RELATION
        downloads_of[model_id] = record.downloads
        for ancestor in above:
            descendants[ancestor].append(model_id)
    stats = []
    for ancestor, members in descendants.items():
        if len(members) > MANY_DESCENDANTS:
            relations = Counter(map(relation_of.__getitem__, members))
            counted = {r: relations.get(r, 0) for r in ALL_RELATIONS}
            values = list(map(downloads_of.__getitem__, members))
            total = sum(values)
            best = heapq.nlargest(TOP_DESCENDANTS, zip(values, members, strict=True))
        else:  # most ancestors have a handful of descendants: plain loops are faster
            counted = dict.fromkeys(ALL_RELATIONS, 0)
            total = 0
            pairs = []
            for model_id in members:
                relation = relation_of[model_id]
                if relation in counted:
                    counted[relation] += 1
                value = downloads_of[model_id]
                total += value
                pairs.append((value, model_id))
            pairs.sort(reverse=True)
            best = pairs[:TOP_DESCENDANTS]
        best.sort(key=_most_downloaded_first)
        stats.append(
            LineageStat(
                ancestor,
                sum(counted.values()),
                counted,
                total,
                [(model_id, value) for value, model_id in best],
            )
        )
    return stats


def _most_downloaded_first(item: tuple[int, str]) -> tuple[int, str]:
    return -item[0], item[1]
