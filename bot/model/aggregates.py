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
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from bot.core.registry import Registry
from bot.model.lineage import Tree

Codes = npt.NDArray[np.signedinteger[Any]]
"""Numbers of orgs (or countries), int32 or int64."""
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
    numbering = Numbering()
    author_codes = numbering.codes(authors)
    family_codes = numbering.codes(family)
    multi = {model_id for model_id, roots in tree.roots.items() if len(roots) > 1}
    merges = np.flatnonzero(np.fromiter(map(multi.__contains__, ids), bool, len(ids)))
    root_orgs = [
        [authors[index] if root == ids[index] else org_of(root) for root in tree.roots[ids[index]]]
        for index in merges.tolist()
    ]
    splits = np.fromiter(map(len, root_orgs), np.int64, len(root_orgs))
    publisher, lineage = attribution_parts(
        author_codes,
        family_codes,
        weights,
        merges,
        numbering.codes([org for each in root_orgs for org in each]),
        splits,
    )
    orgs = Orgs.of(numbering.names, registry)
    return tally(orgs, publisher, lineage, int(sum(downloads)))


@dataclass(frozen=True)
class Part:
    """Downloads credited to keys (org or country codes): one entry per model, or, with
    ``model`` naming each entry's model, several entries per model (a merge's roots)."""

    key: Codes
    weight: npt.NDArray[np.float64]
    model: npt.NDArray[np.int64] | None = None


def attribution_parts(
    author: Codes,
    family: Codes,
    weights: npt.NDArray[np.float64],
    merges: npt.NDArray[np.int64],
    root_orgs: Codes,
    splits: npt.NDArray[np.int64],
) -> tuple[list[Part], list[Part]]:
    """The publisher and lineage attributions of models given as org codes: a model's
    downloads go to its author's org (publisher) and to its root's org, its family (lineage),
    or in equal parts to the orgs of a merge's roots. ``merges`` are the positions of the
    models with several roots, ``root_orgs`` their roots' orgs one merge after the other,
    ``splits`` how many roots each has."""
    single = np.ones(len(weights), bool)
    single[merges] = False
    return [Part(author, weights)], [
        Part(family[single], weights[single]),
        Part(root_orgs, np.repeat(weights[merges] / splits, splits), np.repeat(merges, splits)),
    ]


@dataclass(frozen=True)
class Orgs:
    """Numbered org names (codes index ``names``) and what the registry says of each: its
    country's code (into ``countries``), whether it is registered, and its place in the
    names' sorted order (ties between equal totals rank by name)."""

    names: Sequence[str]
    country: npt.NDArray[np.int64]
    countries: list[str]
    registered: npt.NDArray[np.bool_]
    order: npt.NDArray[np.int64]

    @classmethod
    def of(cls, names: Sequence[str], registry: Registry) -> Orgs:
        numbering = Numbering()
        country = numbering.codes([registry.country_of(name) for name in names])
        keep = registry.orgs
        registered = np.fromiter((name.lower() in keep for name in names), bool, len(names))
        return cls(names, country, numbering.names, registered, sorted_order(names))


def sorted_order(names: Sequence[str]) -> npt.NDArray[np.int64]:
    """Each name's place in sorted order (Python's, by code point)."""
    order = np.empty(len(names), np.int64)
    try:  # Arrow sorts UTF-8 bytes, the same order as code points, ten times faster
        by_name = pc.sort_indices(pa.array(names, pa.string())).to_numpy()
    except (pa.ArrowException, UnicodeError):  # a string UTF-8 cannot encode
        by_name = np.array(sorted(range(len(names)), key=names.__getitem__), np.int64)
    order[by_name] = np.arange(len(names))
    return order


def tally(
    orgs: Orgs, publisher: Sequence[Part], lineage: Sequence[Part], total: int
) -> list[AggregateRow]:
    """The rows of both attributions, by country and by org, from parts keyed by org code:
    every present key ranked by downloads (ties by name), shares of ``total``. Org rows are
    kept for the top ``ORG_ROWS_KEPT`` and for registered orgs only."""
    rows: list[AggregateRow] = []
    country_order = sorted_order(orgs.countries)
    for attribution, parts in ((PUBLISHER, publisher), (LINEAGE, lineage)):
        by_country = [Part(orgs.country[part.key], part.weight, part.model) for part in parts]
        for level, names, order, keep, coded in (
            (COUNTRY, orgs.countries, country_order, None, by_country),
            (ORG, orgs.names, orgs.order, orgs.registered, parts),
        ):
            sums, members = _totals(coded, len(names))
            rows += _ranked(attribution, level, names, order, sums, members, total, keep)
    return rows


def _ranked(
    attribution: str,
    level: str,
    names: Sequence[str],
    order: npt.NDArray[np.int64],
    sums: npt.NDArray[np.float64],
    members: npt.NDArray[np.int64],
    total: int,
    keep: npt.NDArray[np.bool_] | None,
) -> list[AggregateRow]:
    """Rank the keys with members by downloads, ties by name, and build rows for those kept:
    sorting hundreds of thousands of orgs with numpy, rows only for a few hundred."""
    present = np.flatnonzero(members)
    ranked = present[np.lexsort((order[present], -sums[present]))]
    ranks = np.arange(1, len(ranked) + 1)
    if keep is not None:
        chosen = (ranks <= ORG_ROWS_KEPT) | keep[ranked]
        ranked, ranks = ranked[chosen], ranks[chosen]
    return [
        AggregateRow(
            attribution, level, names[key], value, count, value / total if total else 0.0, rank
        )
        for key, value, count, rank in zip(
            ranked.tolist(),
            sums[ranked].tolist(),
            members[ranked].tolist(),
            ranks.tolist(),
            strict=True,
        )
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
