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

from bot.core.registry import Registry
from bot.model.lineage import Tree

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
    weights = np.fromiter(downloads, np.float64, len(ids))
    total = int(sum(downloads))
    orgs = Numbering()
    publisher = [Part(orgs.codes(authors), weights)]
    lineage = _lineage_parts(ids, authors, family, weights, tree, orgs)
    countries = Numbering()
    country_of = countries.codes([registry.country_of(org) for org in orgs.names])
    keep = set(registry.orgs)
    rows: list[AggregateRow] = []
    for attribution, parts in ((PUBLISHER, publisher), (LINEAGE, lineage)):
        by_country = [Part(country_of[part.key], part.weight, part.model) for part in parts]
        for level, names, coded in (
            (COUNTRY, countries.names, by_country),
            (ORG, orgs.names, parts),
        ):
            sums, members = _totals(coded, len(names))
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
    """Downloads credited to keys (org or country codes): one entry per model, or, with
    ``model`` naming each entry's model, several entries per model (a merge's roots)."""

    key: npt.NDArray[np.int64]
    weight: npt.NDArray[np.float64]
    model: npt.NDArray[np.int64] | None = None


def _lineage_parts(
    ids: Sequence[str],
    authors: Sequence[str],
    family: Sequence[str],
    weights: npt.NDArray[np.float64],
    tree: Tree,
    orgs: Numbering,
) -> list[Part]:
    """The lineage attribution: a model's downloads go to its root's org (its family), or in
    equal parts to the orgs of a merge's roots."""
    multi = {model_id for model_id, roots in tree.roots.items() if len(roots) > 1}
    is_merge = np.fromiter(map(multi.__contains__, ids), bool, len(ids))
    merges = np.flatnonzero(is_merge)
    root_orgs = [
        [authors[index] if root == ids[index] else org_of(root) for root in tree.roots[ids[index]]]
        for index in merges.tolist()
    ]
    splits = np.fromiter(map(len, root_orgs), np.int64, len(root_orgs))
    single = ~is_merge
    return [
        Part(orgs.codes(family)[single], weights[single]),
        Part(
            orgs.codes([org for each in root_orgs for org in each]),
            np.repeat(weights[merges] / splits, splits),
            np.repeat(merges, splits),
        ),
    ]


def _totals(
    parts: Sequence[Part], size: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Downloads and models per key; a model with two roots of one org (or country) is one
    model of it, not two."""
    sums = np.zeros(size)
    members = np.zeros(size, np.int64)
    for part in parts:
        sums += np.bincount(part.key, part.weight, size)
        key = part.key if part.model is None else np.unique(part.model * size + part.key) % size
        members += np.bincount(key, None, size)
    return sums, members


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
