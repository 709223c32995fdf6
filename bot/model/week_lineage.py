"""The parent links, roots and families of an archived week's models, as arrays.

A week holds every model on the Hub, a million of them with parents: parsing their tags one
model at a time and walking the tree with a Python dict of a million ids took most of an
import. Here the tags are parsed with Arrow kernels, the ids numbered once with one hash table,
and the roots found level by level with numpy, giving the same parents, roots and families as
``bot.model.records.parse_parents``, ``bot.model.lineage.build_tree`` and
``bot.model.aggregates.families``. Only merges (a set of roots each) and the models on or
below a cycle (where roots depend on the walk's order) go through Python, the latter through
``build_tree`` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from bot.model.lineage import build_tree
from bot.model.records import RELATIONS, parse_parents

BASE_MODEL = "base_model:"
RELATION_TAG = f"(?s)^(?P<relation>{'|'.join(RELATIONS)}):(?P<parent>.*)$"
"""``<relation>:<id>`` after ``base_model:``, split at the first colon as ``parse_parents``
does."""
ORG = "^(?P<org>[^/]*)/"
"""A model id's namespace (every id and parent here has a slash)."""

Int64s = npt.NDArray[np.int64]
Codes = npt.NDArray[np.int32]
"""Numbers of ids and orgs: int32, as Arrow's dictionary encoding gives them (half the memory
of int64 for arrays of every model)."""
Ints = npt.NDArray[np.signedinteger[Any]]


def batch_parents(ids: pa.Array, tags: pa.Array | None, base_models: pa.Array | None) -> Links:
    """The batch's direct parent links as ``parse_parents`` gives them (from the
    ``base_model:`` tags, else from ``baseModels``; self-references dropped), model by model
    in row order, each model's parents in that function's order."""
    rows, parents, found = _tag_links(tags) if _is_string_list(tags) else _no_links()
    if base_models is not None and base_models.null_count < len(base_models):
        rows, parents = _with_structured(ids, rows, parents, found, base_models)
    if len(rows):
        kept = pc.invert(pc.equal(parents, ids.take(pa.array(rows))))
        rows, parents = rows[kept.to_numpy(zero_copy_only=False)], parents.filter(kept)
    return Links(rows, parents.cast(pa.string()))


@dataclass(frozen=True)
class Links:
    """Parent links: ``rows[k]`` names ``parents[k]``; rows ascending."""

    rows: Int64s
    parents: pa.Array | pa.ChunkedArray


def _is_string_list(column: pa.Array | None) -> bool:
    if column is None:
        return False
    kind = column.type
    return (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and (
        pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)
    )


def _no_links() -> tuple[Int64s, pa.Array, Int64s]:
    return np.zeros(0, np.int64), pa.array([], pa.string()), np.zeros(0, np.int64)


def _tag_links(tags: pa.Array) -> tuple[Int64s, pa.Array, Int64s]:
    """Links from ``base_model:<relation>:<id>`` tags first, in the order of their first tag,
    then from bare ``base_model:<id>`` tags naming other parents; also the rows that had any
    (the ones whose ``baseModels`` are not read)."""
    flat = pc.list_flatten(tags)
    lineage = pc.fill_null(pc.starts_with(flat, BASE_MODEL), False)
    if not pc.any(lineage).as_py():
        return _no_links()
    rows = pc.list_parent_indices(tags).filter(lineage).to_numpy().astype(np.int64)
    rest = pc.utf8_slice_codeunits(flat.filter(lineage), len(BASE_MODEL))
    tail = pc.struct_field(pc.extract_regex(rest, RELATION_TAG), "parent")
    with_relation = pc.fill_null(pc.match_substring(tail, "/"), False)
    bare = pc.and_(pc.match_substring(rest, "/"), pc.invert(pc.match_substring(rest, ":")))
    keep = pc.or_(with_relation, bare)
    parents = pc.if_else(with_relation, tail, rest).filter(keep)
    kind = with_relation.filter(keep).to_numpy(zero_copy_only=False)
    rows = rows[keep.to_numpy(zero_copy_only=False)]
    if not len(rows):
        return _no_links()
    # One link per (row, parent): a relation tag's before a bare one, then the first tag.
    kind = np.where(kind, 0, 1)
    position = np.arange(len(rows))
    parent = pc.dictionary_encode(parents).indices.to_numpy().astype(np.int64)
    order = np.lexsort((position, kind, parent, rows))
    first = np.ones(len(order), bool)
    first[1:] = (rows[order][1:] != rows[order][:-1]) | (parent[order][1:] != parent[order][:-1])
    chosen = order[first]
    chosen = chosen[np.lexsort((position[chosen], kind[chosen], rows[chosen]))]
    return rows[chosen], parents.take(pa.array(chosen)), np.unique(rows)


def _with_structured(
    ids: pa.Array, rows: Int64s, parents: pa.Array, found: Int64s, base_models: pa.Array
) -> tuple[Int64s, pa.Array]:
    """Add the links of the rows without lineage tags from their ``baseModels`` (few: the
    archive carries both), through ``parse_parents`` itself."""
    present = np.flatnonzero(pc.is_valid(base_models).to_numpy(zero_copy_only=False))
    wanting = np.setdiff1d(present, found, assume_unique=True)
    if not len(wanting):
        return rows, parents
    taken = pa.array(wanting)
    extra_rows: list[int] = []
    extra: list[str] = []
    for row, model_id, structured in zip(
        wanting.tolist(),
        ids.take(taken).to_pylist(),
        base_models.take(taken).to_pylist(),
        strict=True,
    ):
        for edge in parse_parents(model_id, (), structured):
            extra_rows.append(row)
            extra.append(edge.parent)
    if not extra:
        return rows, parents
    joined = np.concatenate([rows, np.asarray(extra_rows, np.int64)])
    order = np.argsort(joined, kind="stable")
    combined = pa.concat_arrays([parents.cast(pa.string()), pa.array(extra, pa.string())])
    return joined[order], combined.take(pa.array(order))


@dataclass(frozen=True)
class WeekLineage:
    """A week's models numbered by id, with their orgs, families and merges.

    ``node[row]`` numbers the row's id (0 to ``ids`` - 1, in order of first appearance); the
    parents that are not models of the week are numbered after them; ``names`` are the ids
    and parents by number. Orgs are numbered too: ``org_names[author[row]]`` is the row's
    namespace, ``org_names[family[row]]`` its root's. Rows with several roots are ``merges``,
    their roots' orgs ``root_orgs``, ``splits`` roots one merge after the other (sorted by
    root id). ``parent_start``/``parent_nodes`` list each node's parents (a CSR over nodes).
    """

    node: Codes
    ids: int
    names: pa.Array
    author: Codes
    family: Codes
    org_names: list[str]
    merges: Int64s
    root_orgs: Codes
    splits: Int64s
    parent_start: Int64s
    parent_nodes: Codes

    def model_ids(self, rows: Int64s) -> pa.Array:
        return self.names.take(pa.array(self.node[rows]))

    def last_rows(self) -> Int64s:
        """The last row of each node that is a model of the week (-1 for the others)."""
        last = np.full(self.ids, -1, np.int64)
        np.maximum.at(last, self.node, np.arange(len(self.node)))
        return last

    def ancestors(self, nodes: Codes) -> Codes:
        """Every model of the week above ``nodes`` (each once, ``nodes`` excluded)."""
        seen = np.zeros(self.ids, bool)
        seen[nodes] = True
        frontier = np.unique(nodes)
        found: list[Codes] = []
        while len(frontier):
            above = self.parent_nodes[_ranges(self.parent_start, frontier)]
            above = np.unique(above[above < self.ids])
            frontier = above[~seen[above]]
            seen[frontier] = True
            found.append(frontier)
        return np.concatenate(found) if found else np.zeros(0, np.int32)


def week_lineage(ids: list[pa.Array], links: Links) -> WeekLineage:
    """Number the week's ids and the parents its links name, and resolve every model's roots.

    ``ids`` are the rows' model ids in chunks, unique or not; the list is emptied, so that its
    strings are freed once numbered (``names`` holds each id once). ``links`` are
    ``batch_parents`` of every batch, rows counted across the week.
    """
    rows_total = sum(map(len, ids))
    parents = links.parents
    chunks = parents.chunks if isinstance(parents, pa.ChunkedArray) else [parents]
    every = pc.dictionary_encode(pa.chunked_array([*ids, *chunks], pa.string()))
    ids.clear()
    codes = np.concatenate(
        [np.zeros(0, np.int32), *(chunk.indices.to_numpy() for chunk in every.chunks)]
    ).astype(np.int32)
    names = every.chunk(0).dictionary if every.num_chunks else pa.array([], pa.string())
    del every
    node, parent = codes[:rows_total], codes[rows_total:]
    distinct = int(node.max()) + 1 if len(node) else 0
    rows = links.rows
    if distinct < len(node) and len(rows):  # an id twice: its last row with parents wins
        last = np.full(distinct, -1, np.int64)
        np.maximum.at(last, node[rows], rows)
        mine = rows == last[node[rows]]
        rows, parent = rows[mine], parent[mine]
    org = pc.dictionary_encode(pc.struct_field(pc.extract_regex(names, ORG), "org"))
    org_of_node = org.indices.to_numpy().astype(np.int32)
    tree = _Roots(len(names), node[rows], parent, names)
    family_of_node = org_of_node[tree.first_root()]
    merge_rows = np.flatnonzero(tree.roots[node] >= tree.size)
    sets = tree.roots[node[merge_rows]] - tree.size
    splits = np.diff(tree.set_start)[sets]
    root_orgs = org_of_node[tree.set_members[_ranges(tree.set_start, sets)]]
    return WeekLineage(
        node=node,
        ids=distinct,
        names=names,
        author=org_of_node[node],
        family=family_of_node[node],
        org_names=org.dictionary.to_pylist(),
        merges=merge_rows,
        root_orgs=root_orgs,
        splits=splits,
        parent_start=tree.start,
        parent_nodes=tree.parent,
    )


def _starts(counts: npt.NDArray[np.int64]) -> Int64s:
    """Where each of ``counts``' runs starts, and where the last ends."""
    start = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=start[1:])
    return start


def _ranges(start: Int64s, which: Ints) -> Int64s:
    """The indices ``start[w]`` to ``start[w + 1]`` of every ``w`` in ``which``, in order."""
    lengths = start[which + 1] - start[which]
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int64)
    offsets = np.repeat(start[which] - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(total)


class _Roots:
    """Every node's roots, as ``build_tree`` finds them: a node below no cycle is resolved
    once all its parents are, level after level (a single parent passes its roots on, a
    merge unites its parents'); the rest, on or below a cycle, by ``build_tree`` itself.

    ``roots[node]`` is a node's one root (a node code), or ``size + s`` for the ``s``-th set
    of several roots, whose codes are ``set_members[set_start[s]:set_start[s + 1]]``, sorted
    by id. A node without parents is its own root.
    """

    def __init__(self, size: int, children: Codes, parents: Codes, names: pa.Array) -> None:
        self.size = size
        self._names = names
        self._name_cache: dict[int, str] = {}
        counts = np.bincount(children, minlength=size)
        self.start = _starts(counts)
        self.parent = parents[np.argsort(children, kind="stable")]
        self.roots = np.arange(size, dtype=np.int32)
        self._sets: dict[tuple[int, ...], int] = {}
        self._set_list: list[tuple[int, ...]] = []
        has_parents = counts > 0
        del counts
        waiting = self._by_levels(has_parents)
        if len(waiting):
            self._through_build_tree(waiting, has_parents)
        members = self._set_list
        lengths = np.fromiter(map(len, members), np.int64, len(members))
        self.set_start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self.set_members = np.fromiter(
            (code for each in members for code in each), np.int32, int(lengths.sum())
        )

    def first_root(self) -> Codes:
        first = self.roots.copy()
        several = first >= self.size
        if several.any():
            firsts = np.fromiter((each[0] for each in self._set_list), np.int32, len(self._sets))
            first[several] = firsts[first[several] - self.size]
        return first

    def _by_levels(self, has_parents: npt.NDArray[np.bool_]) -> Int64s:
        """Resolve the nodes whose ancestry has no cycle; return the others."""
        counts = np.diff(self.start)
        waits = has_parents[self.parent]  # links to parents that have parents themselves
        below_child = np.repeat(np.arange(self.size, dtype=np.int32), counts)[waits]
        below_parent = self.parent[waits]
        del waits
        pending = np.bincount(below_child, minlength=self.size).astype(np.int32)
        below = below_child[np.argsort(below_parent, kind="stable")]
        below_start = _starts(np.bincount(below_parent, minlength=self.size))
        del below_child, below_parent
        level = np.flatnonzero(has_parents & (pending == 0))
        resolved = ~has_parents
        while len(level):
            self._resolve(level, counts)
            resolved[level] = True
            children, count = np.unique(below[_ranges(below_start, level)], return_counts=True)
            pending[children] -= count
            level = children[pending[children] == 0]
        return np.flatnonzero(~resolved)

    def _resolve(self, level: Int64s, counts: Int64s) -> None:
        single = level[counts[level] == 1]
        self.roots[single] = self.roots[self.parent[self.start[single]]]
        for node in level[counts[level] > 1].tolist():
            found: set[int] = set()
            for parent in self.parent[self.start[node] : self.start[node + 1]].tolist():
                found.update(self._members(int(self.roots[parent])))
            self.roots[node] = self._root_set(found)

    def _members(self, value: int) -> Sequence[int]:
        return (value,) if value < self.size else self._set_list[value - self.size]

    def _root_set(self, codes: set[int]) -> int:
        """The value of ``roots`` for these roots: the one, or the number of their set."""
        if len(codes) == 1:
            return next(iter(codes))
        ordered = tuple(sorted(codes, key=self._name))
        number = self._sets.get(ordered)
        if number is None:
            number = self._sets[ordered] = len(self._set_list)
            self._set_list.append(ordered)
        return self.size + number

    def _name(self, code: int) -> str:
        name = self._name_cache.get(code)
        if name is None:
            name = self._name_cache[code] = self._names[code].as_py()
        return name

    def _through_build_tree(self, waiting: Int64s, has_parents: npt.NDArray[np.bool_]) -> None:
        """Nodes on or below a cycle: ``build_tree`` over them alone, each parent resolved
        already replaced by its roots (which are no node's in this mapping, as they were not
        in the whole), so that its walk, and the cycles it meets, are the whole tree's."""
        settled = has_parents.copy()
        settled[waiting] = False
        mapping: dict[str, list[str]] = {}
        code_of: dict[str, int] = {}
        for node in waiting.tolist():
            above: list[str] = []
            for parent in self.parent[self.start[node] : self.start[node + 1]].tolist():
                for code in (
                    self._members(int(self.roots[parent])) if settled[parent] else (parent,)
                ):
                    name = self._name(code)
                    code_of[name] = code
                    above.append(name)
            name = self._name(node)
            code_of[name] = node
            mapping[name] = above
        tree = build_tree(mapping)
        for node in waiting.tolist():
            roots = tree.roots[self._name(node)]
            self.roots[node] = self._root_set({code_of[root] for root in roots})
