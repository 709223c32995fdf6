"""Per-snapshot aggregates, computed once when a snapshot is written.

Two attributions of each download:

* publisher: the country of the org that owns the repo;
* lineage: the country of the model's root base model, so a third-party GGUF of a Qwen model
  counts as Chinese. A merge of several roots is split equally between them.

Only the snapshot's top-N models (its denominator) enter country, org and family totals, so the
shares of one level always add up to 100%.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.lineage import Tree
from bot.registry import Registry

PUBLISHER = "publisher"
LINEAGE = "lineage"
ATTRIBUTIONS = (PUBLISHER, LINEAGE)
COUNTRY = "country"
ORG = "org"
ORG_ROWS_KEPT = 500


@dataclass(frozen=True)
class AggregateRow:
    attribution: str
    level: str
    key: str
    downloads: float
    models: int
    share: float
    rank: int


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
    ids: Sequence[str],
    authors: Sequence[str],
    family: Sequence[str],
    downloads: Sequence[int],
    tree: Tree,
    registry: Registry,
) -> list[AggregateRow]:
    """Country, org and family totals of the top-N models, in both attributions.

    The models come as columns: ids, authors, families (``families``) and downloads. Orgs and
    countries are numbered and every total is one ``numpy.bincount``: a Python loop over
    hundreds of thousands of models, eight tallies each, was a second of every snapshot's write.
    """
    count = len(ids)
    weights = np.fromiter(downloads, np.float64, count)
    total = int(sum(downloads))
    orgs = Numbering()
    publisher = orgs.codes(authors)
    lineage = orgs.codes(family)  # right for every model with a single root
    multi = {model_id for model_id, roots in tree.roots.items() if len(roots) > 1}
    merged = [
        (
            index,
            [
                authors[index] if root == ids[index] else org_of(root)
                for root in tree.roots[ids[index]]
            ],
        )
        for index in np.flatnonzero(np.fromiter(map(multi.__contains__, ids), bool, count)).tolist()
    ]
    merged_index = np.fromiter((index for index, _ in merged), np.int64, len(merged))
    splits = np.fromiter((len(root_orgs) for _, root_orgs in merged), np.int64, len(merged))
    single = np.ones(count, bool)
    single[merged_index] = False
    merged_model = np.repeat(merged_index, splits)
    merged_org = orgs.codes([org for _, root_orgs in merged for org in root_orgs])
    merged_weight = np.repeat(weights[merged_index] / splits, splits)
    countries = Numbering()
    country_of = countries.codes([registry.country_of(org) for org in orgs.names])
    keep = set(registry.orgs)
    rows: list[AggregateRow] = []
    for attribution, parts in (
        (PUBLISHER, [Part(publisher, weights)]),
        (
            LINEAGE,
            [Part(lineage[single], weights[single]), Part(merged_org, merged_weight, merged_model)],
        ),
    ):
        for level, names in ((COUNTRY, countries.names), (ORG, orgs.names)):
            size = len(names)
            sums = np.zeros(size)
            members = np.zeros(size, np.int64)
            for part in parts:
                key = country_of[part.org] if level == COUNTRY else part.org
                sums += np.bincount(key, part.weight, size)
                if part.model is not None:
                    # A merge of two roots of one org (or country) is one model of it, not two.
                    key = np.unique(part.model * size + key) % size
                members += np.bincount(key, None, size)
            present = np.flatnonzero(members).tolist()
            found, counted = sums.tolist(), members.tolist()
            rows += _ranked(
                attribution,
                level,
                {names[k]: found[k] for k in present},
                {names[k]: counted[k] for k in present},
                total,
                keep if level == ORG else None,
            )
    return rows


@dataclass(frozen=True)
class Part:
    """Downloads credited to orgs (codes), one entry per model, or, with ``model``, several
    entries per model (a merge's roots)."""

    org: npt.NDArray[np.int64]
    weight: npt.NDArray[np.float64]
    model: npt.NDArray[np.int64] | None = None


class Numbering:
    """Numbers strings in order of first appearance: 0, 1, 2..."""

    def __init__(self) -> None:
        self.number: dict[str, int] = {}
        self.names: list[str] = []

    def codes(self, values: Sequence[str]) -> npt.NDArray[np.int64]:
        for value in dict.fromkeys(values):
            if value not in self.number:
                self.number[value] = len(self.names)
                self.names.append(value)
        return np.fromiter(map(self.number.__getitem__, values), np.int64, len(values))


def families(
    ids: Sequence[str], authors: Sequence[str], roots: Mapping[str, tuple[str, ...]]
) -> list[str]:
    """Each model's family: the org of its (first) root, its own author at a root.

    Models share their roots tuples (a model's is its parent's), so the org is found once per
    tuple; a model that is its own root (on a cycle) has its own namespace, its author."""
    org = {first: org_of(first[0]) for first in set(roots.values())}
    return [
        author if first is None else org[first]
        for author, first in zip(authors, map(roots.get, ids), strict=True)
    ]
