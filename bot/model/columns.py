"""A crawl's records as columns, copied out in one pass.

Writing a snapshot reads every field of up to hundreds of thousands of records, and each record
lives somewhere else in memory: reading them field by field, pass after pass, in id order, cost
more than the work done with the fields (a read of a Python object far from the last one is a
cache miss). ``ModelColumns.of`` reads each record once, in the order the crawl made them (the
order they lie in memory), and keeps one tuple per field in that order, with a fingerprint of
each model's stored row and links. Everything after reads those tuples in that same order;
sorting them by id would touch every value once more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cached_property
from itertools import chain
from operator import attrgetter
from typing import Any
from zlib import crc32

from bot.model.fields import CHANGEABLE, LISTS
from bot.model.records import Edge, ModelRecord

_FIELDS = tuple(each.name for each in fields(ModelRecord))
_READ = attrgetter(*_FIELDS)
_LINK = attrgetter("child", "parent", "relation")

Link = tuple[str, str, str]
"""(child, parent, relation)"""


@dataclass(frozen=True)
class ModelColumns:
    """One sequence per field of ``ModelRecord`` (``of`` fills them by name, so a field missing
    here fails at once), in crawl order, and the parent links."""

    id: Sequence[str]
    author: Sequence[str]
    created_at: Sequence[datetime | None]
    pipeline_tag: Sequence[str | None]
    library: Sequence[str | None]
    license: Sequence[str | None]
    gated: Sequence[str]
    tags: Sequence[Sequence[str]]
    downloads: Sequence[int]
    downloads_all_time: Sequence[int | None]
    likes: Sequence[int]
    trending_score: Sequence[float | None]
    children_count: Sequence[int | None]
    fingerprint: Sequence[int]
    """Of the model's stored metadata and parent links (``fingerprints``)."""
    links: list[Link]
    """Every parent link, by child in crawl order, each child's parents in the Hub's order
    (first parent first, each once: ``bot.model.records.parse_parents``)."""
    parent_counts: Sequence[int]
    """How many of ``links`` each model has."""

    @classmethod
    def of(cls, records: Iterable[ModelRecord]) -> ModelColumns:
        read = list(zip(*map(_READ, records), strict=True)) or [()] * len(_FIELDS)
        column: dict[str, Sequence[Any]] = dict(zip(_FIELDS, read, strict=True))
        parents = column.pop("parents")
        return cls(
            **column,
            fingerprint=fingerprints(column, parents),
            links=list(map(_LINK, chain.from_iterable(parents))),
            parent_counts=list(map(len, parents)),
        )

    def __len__(self) -> int:
        return len(self.id)

    @cached_property
    def order(self) -> list[int]:
        """The models' positions in id order."""
        return sorted(range(len(self.id)), key=self.id.__getitem__)

    @cached_property
    def position(self) -> dict[str, int]:
        """Each model's position in the columns, by id."""
        return {model_id: index for index, model_id in enumerate(self.id)}


def fingerprints(column: Mapping[str, Sequence[Any]], parents: Sequence[list[Edge]]) -> list[int]:
    """A CRC-32 per model of everything a change on the Hub can change in its ``models`` row and
    its parent links: the ``CHANGEABLE`` fields (``bot.model.fields``) and the parents. A model
    whose fingerprint is the stored one is not written again; two different rows share a CRC-32
    once in four billion.

    ``column`` holds each field's column, ``parents`` each model's parent links. Built with
    ``map`` and ``str.join`` over whole columns: a Python function per model took as long as
    writing the models."""
    links = [
        "\x1e".join([f"{edge.parent} {edge.relation}" for edge in edges]) if edges else ""
        for edges in parents
    ]
    texts = map(
        "\x1f".join,
        zip(
            *[map("\x1e".join if name in LISTS else str, column[name]) for name in CHANGEABLE],
            links,
            strict=True,
        ),
    )
    return list(map(crc32, map(str.encode, texts)))
