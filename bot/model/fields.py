"""A model's fields, declared once: what the Hub says about a model repo, one ``models`` row.

``ModelMetadata`` is the declaration; everything else follows from it. The crawl's
``bot.model.records.ModelRecord`` adds one crawl's figures and parent links to it, and the read
side's ``bot.store.reader.Model`` the snapshot that first saw the model; ``bot.model.columns``
copies every field of a crawl's records out and fingerprints the ``CHANGEABLE`` ones; the writer
stores ``METADATA`` (and upserts it) and the reader reads it back, converting as each field's type
says. A new field is a line here and a migration adding its column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import MappingProxyType
from typing import get_origin, get_type_hints

FIXED = MappingProxyType({"fixed": True})
"""Field metadata of what no change on the Hub changes (a repo's id, author and creation time).
Every other field is ``CHANGEABLE``: a field left unmarked costs a rewrite, never a stale row."""


@dataclass(slots=True)
class ModelMetadata:
    """A model repo as the Hub describes it; ``tags`` are stored as JSON text."""

    id: str = field(metadata=FIXED)
    author: str = field(metadata=FIXED)
    created_at: datetime | None = field(metadata=FIXED)
    pipeline_tag: str | None
    library: str | None
    license: str | None
    gated: str
    tags: Sequence[str]


METADATA = tuple(each.name for each in fields(ModelMetadata))
"""The columns of a ``models`` row that come from the Hub, in declaration order (the key first)."""
CHANGEABLE = tuple(each.name for each in fields(ModelMetadata) if not each.metadata.get("fixed"))
"""The fields a change on the Hub can change: with the parent links, a model's fingerprint."""
LISTS = frozenset(
    name for name, hint in get_type_hints(ModelMetadata).items() if get_origin(hint) is Sequence
)
"""The fields that hold a sequence of strings."""
