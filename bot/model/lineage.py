"""Pure functions over the model tree: roots, ancestors and chains.

The Hub names direct parents only, so everything here walks parent links. Links can be
missing (a parent repo was deleted) or cyclic (two cards naming each other); both are
reported and never followed forever.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

MAX_CHAIN = 64


@dataclass
class Tree:
    """The roots of every model that has parents, and the links that close a cycle."""

    roots: dict[str, tuple[str, ...]]
    cycles: list[tuple[str, str]] = field(default_factory=list)

    def roots_of(self, model_id: str) -> tuple[str, ...]:
        return self.roots.get(model_id, (model_id,))


def build_tree(parents: Mapping[str, Sequence[str]]) -> Tree:
    """Resolve every model's roots in one iterative depth-first pass.

    A parent that is not a key of ``parents`` is a root (it may be missing from the Hub; its id
    still names its org). A back edge closes a cycle: it is recorded in ``cycles`` and ignored,
    so a model on a cycle is rooted where the cycle was entered. Without the ``cycles`` links
    the graph is acyclic.
    """
    roots: dict[str, tuple[str, ...]] = {}
    cycles: list[tuple[str, str]] = []

    def finish(node: str, direct: Sequence[str]) -> None:
        if len(direct) == 1:  # most models: one parent, a fast path with the same result
            parent = direct[0]
            above_parent = roots.get(parent)
            if above_parent is not None:
                roots[node] = above_parent
            elif parent not in parents and parent != node:
                roots[node] = (parent,)
            else:
                roots[node] = (node,)
            return
        found: set[str] = set()
        for parent in direct:
            if parent in roots:
                found.update(roots[parent])
            elif parent not in parents and parent != node:
                found.add(parent)
        roots[node] = tuple(sorted(found)) if found else (node,)

    for start, direct in parents.items():
        if start in roots:
            continue
        ready = (
            direct[0] in roots or direct[0] not in parents
            if len(direct) == 1  # most models: no generator for one parent
            else all(parent in roots or parent not in parents for parent in direct)
        )
        if ready:
            finish(start, direct)  # every parent already resolved: no walk needed
            continue
        on_path = {start}
        stack = [(start, iter(direct))]
        while stack:
            node, pending = stack[-1]
            for parent in pending:
                if parent in roots or parent not in parents:
                    continue
                if parent in on_path:
                    cycles.append((node, parent))
                    continue
                on_path.add(parent)
                stack.append((parent, iter(parents[parent])))
                break
            else:
                stack.pop()
                on_path.discard(node)
                finish(node, parents[node])
    return Tree(roots, cycles)


@dataclass(frozen=True)
class Step:
    """One link of a chain: ``model`` is a ``relation`` of ``parent``."""

    model: str
    parent: str
    relation: str
    other_parents: tuple[str, ...] = ()


@dataclass
class Chain:
    steps: list[Step]
    cycle_at: str | None = None
    truncated: bool = False

    @property
    def root(self) -> str | None:
        return self.steps[-1].parent if self.steps else None


def walk_up(
    model_id: str,
    parents_of: Callable[[str], Sequence[tuple[str, str]]],
    limit: int = MAX_CHAIN,
) -> Chain:
    """The chain from ``model_id`` to its root through each model's first parent.

    ``parents_of(m)`` gives ``(parent, relation)`` pairs, first parent first; a merge's other
    parents are kept on the step. Stops at a cycle (``cycle_at``) or after ``limit`` links.
    """
    steps: list[Step] = []
    seen = {model_id}
    current = model_id
    while True:
        links = list(parents_of(current))
        if not links:
            return Chain(steps)
        parent, relation = links[0]
        steps.append(Step(current, parent, relation, tuple(p for p, _ in links[1:])))
        if parent in seen:
            return Chain(steps, cycle_at=parent)
        if len(steps) >= limit:
            return Chain(steps, truncated=True)
        seen.add(parent)
        current = parent
