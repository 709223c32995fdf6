"""What is built on each model: descendant counts per relation, their downloads, the top few.

Every ancestor of every model is needed, and at 200,000 models that is over half a million
(descendant, ancestor) pairs. A set of ancestors per model, then a list of descendants per
ancestor, took seconds in Python; here models are numbered, the pairs are found one generation
at a time by joining integer arrays with numpy, and each statistic is one grouped reduction.

The links come from ``bot.model.lineage.build_tree``'s view of the graph: its back edges (the links
that close a cycle) are left out, which makes the graph acyclic, so the walk up ends.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from itertools import pairwise, repeat
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.model.columns import ModelColumns
from bot.model.records import RELATIONS, UNKNOWN_RELATION

ALL_RELATIONS = (*RELATIONS, UNKNOWN_RELATION)
TOP_DESCENDANTS = 5
_UNCOUNTED = len(ALL_RELATIONS)
"""Relation code of a link whose relation is none of ``ALL_RELATIONS``: listed, not counted."""
_CODES = {relation: code for code, relation in enumerate(ALL_RELATIONS)}
_encode_string = json.encoder.encode_basestring_ascii

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LineageStats:
    """Column by column, in id order, every model (or missing parent) that has descendants: how
    many, by the relation of each descendant's own first link, their downloads, and the most
    downloaded few as JSON ``[[id, downloads], ...]``, most downloaded first."""

    model_id: list[str]
    descendants: list[int]
    by_relation: dict[str, list[int]]
    descendant_downloads: list[int]
    top_descendants: list[str]

    def __len__(self) -> int:
        return len(self.model_id)


EMPTY = LineageStats([], [], {relation: [] for relation in ALL_RELATIONS}, [], [])


def compute_lineage_stats(
    columns: ModelColumns, back_edges: Collection[tuple[str, str]] = ()
) -> LineageStats:
    """The ``LineageStats`` of every model or missing parent that has descendants.

    A descendant counts under the relation of its own first link: a GGUF of a fine-tune of X is
    a quantized descendant of X. A descendant reached along two paths (a merge of two fine-tunes
    of X) counts once. Ties in the top few go to the smaller id.
    """
    links = columns.links
    if not links:
        return EMPTY
    names = list(columns.id)
    number = dict(columns.position)
    for missing in sorted({link[1] for link in links} - number.keys()):
        number[missing] = len(names)  # a missing parent: an ancestor with no record
        names.append(missing)
    size = len(names)
    child = np.repeat(np.arange(len(columns)), columns.parent_counts)  # links come by child
    parent = np.fromiter(map(number.__getitem__, map(itemgetter(1), links)), np.int64, len(links))
    code = np.fromiter(
        map(_CODES.get, map(itemgetter(2), links), repeat(_UNCOUNTED)), np.int64, len(links)
    )
    relation = np.full(size, _UNCOUNTED, np.int64)
    first = np.flatnonzero(np.r_[True, child[1:] != child[:-1]])  # links come by child
    relation[child[first]] = code[first]
    downloads = np.zeros(size, np.int64)
    downloads[: len(columns)] = columns.downloads
    rank = np.zeros(size, np.int64)  # place in id order, for ties; descendants all have one
    rank[columns.order] = np.arange(len(columns))
    followed = child != parent
    if back_edges:
        skip = set(back_edges)
        followed &= np.fromiter((link[:2] not in skip for link in links), bool, len(links))
    child, parent = child[followed], parent[followed]
    ancestor, descendant = _pairs(child, parent, size)
    return _stats(ancestor, descendant, relation, downloads, rank, names)


def _pairs(child: Ints, parent: Ints, size: int) -> tuple[Ints, Ints]:
    """Every (ancestor, descendant) pair of an acyclic graph, ordered by ancestor then
    descendant, each pair once."""
    by_child = np.argsort(child, kind="stable")
    link_child, link_parent = child[by_child], parent[by_child]
    found = [parent * size + child]  # ancestor * size + descendant
    frontier_descendant, frontier_ancestor = child, parent
    for _ in range(size):  # each pass climbs one generation; a path has fewer than size links
        first = np.searchsorted(link_child, frontier_ancestor, "left")
        count = np.searchsorted(link_child, frontier_ancestor, "right") - first
        total = int(count.sum())
        if total == 0:
            break
        # The links of each frontier ancestor, one after another: index first..first+count.
        offsets = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
        above = link_parent[np.repeat(first, count) + offsets]
        keys = np.unique(above * size + np.repeat(frontier_descendant, count))
        found.append(keys)
        frontier_ancestor, frontier_descendant = np.divmod(keys, size)
    keys = np.unique(np.concatenate(found))
    ancestor, descendant = np.divmod(keys, size)
    return ancestor, descendant


def _stats(
    ancestor: Ints,
    descendant: Ints,
    relation: Ints,
    downloads: Ints,
    rank: Ints,
    names: list[str],
) -> LineageStats:
    """The statistics of each ancestor, from the (ancestor, descendant) pairs grouped by
    ancestor; ``rank`` orders models by id, ``names`` names every number."""
    if not len(ancestor):
        return EMPTY
    starts = np.flatnonzero(np.r_[True, ancestor[1:] != ancestor[:-1]])
    ends = np.r_[starts[1:], len(ancestor)]
    groups = len(starts)
    group = np.repeat(np.arange(groups), ends - starts)
    width = _UNCOUNTED + 1
    counted = np.bincount(group * width + relation[descendant], minlength=groups * width)
    counted = counted.reshape(groups, width)[:, :_UNCOUNTED]
    descendant_downloads = downloads[descendant]
    totals = np.add.reduceat(descendant_downloads, starts)
    # Within each ancestor: most downloads first, then the smaller id; keep a few. The kept
    # entries stay grouped by ancestor, so each ancestor's JSON is a slice of them.
    best = np.lexsort((rank[descendant], -descendant_downloads, ancestor))
    kept = best[np.arange(len(best)) - starts[group] < TOP_DESCENDANTS]
    entries = list(
        map(
            "[{},{}]".format,
            map(_encode_string, map(names.__getitem__, descendant[kept].tolist())),
            descendant_downloads[kept].tolist(),
        )
    )
    bounds = np.r_[0, np.cumsum(np.minimum(ends - starts, TOP_DESCENDANTS))].tolist()
    tops = ["[" + ",".join(entries[a:b]) + "]" for a, b in pairwise(bounds)]
    model_ids = list(map(names.__getitem__, ancestor[starts].tolist()))
    order = sorted(range(groups), key=model_ids.__getitem__)  # rows insert fastest by key

    def by_id(column: list[Any]) -> list[Any]:
        return list(map(column.__getitem__, order))

    return LineageStats(
        model_id=by_id(model_ids),
        descendants=by_id(counted.sum(axis=1).tolist()),
        by_relation={
            name: by_id(counts)
            for name, counts in zip(ALL_RELATIONS, counted.T.tolist(), strict=True)
        },
        descendant_downloads=by_id(totals.tolist()),
        top_descendants=by_id(tops),
    )
