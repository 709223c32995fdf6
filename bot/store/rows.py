"""Rows as dataclasses: one mapping for every table, derived from the dataclass's own fields.

Each field is read from the column of the same name and converted as the field's type says: a
``datetime`` comes back in UTC (SQLite forgets the zone), a sequence of strings from its JSON text
(as a tuple), a ``bool`` from SQLite's 0 or 1; any other value is used as it is. A field that no
single column holds is built from the whole row by a function given for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from operator import itemgetter
from types import UnionType
from typing import TYPE_CHECKING, Any, TypeVar, Union, get_args, get_origin, get_type_hints

from sqlalchemy import Row, RowMapping

from bot.core.clock import as_utc

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")
Read = Callable[[RowMapping], Any]


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def _strings(value: str | None) -> tuple[str, ...]:
    return tuple(json.loads(value or "[]"))


def _conversion(hint: Any) -> Callable[[Any], Any] | None:
    """What turns a column's value into a field typed ``hint``; None where it needs nothing."""
    if get_origin(hint) in (Union, UnionType):
        kinds = [kind for kind in get_args(hint) if kind is not type(None)]
        hint = kinds[0] if len(kinds) == 1 else hint
    if hint is datetime:
        return _utc
    if hint is bool:
        return bool
    if get_origin(hint) is Sequence:
        return _strings
    return None


def mapper(cls: type[T], **built: Read) -> Callable[[Row[Any]], T]:
    """The function from a row to a ``cls`` (a dataclass), its fields in ``built`` made from the
    row's values by the function given, every other field from its own column. The columns are
    fetched by one ``itemgetter`` (in C), not a Python call per field: a list of thousands of
    models or stats is read this way."""
    hints = get_type_hints(cls)
    names = [each.name for each in fields(cls) if each.name not in built]
    fetch = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    conversions = [
        (index, conversion)
        for index, name in enumerate(names)
        if (conversion := _conversion(hints[name])) is not None
    ]

    def from_row(row: Row[Any]) -> T:
        mapping = row._mapping
        values = list(fetch(mapping))
        for index, conversion in conversions:
            values[index] = conversion(values[index])
        if not built:
            return cls(*values)
        return cls(
            **dict(zip(names, values, strict=True)),
            **{name: read(mapping) for name, read in built.items()},
        )

    return from_row
