"""What a snapshot row says about itself: its status, and whether it is the bundled demo.

The writer sets these and the reader, retention and the answers read them, so they live apart
from both.
"""

from __future__ import annotations

from sqlalchemy.sql.elements import ColumnElement

from bot.store import schema

RUNNING, COMPLETE, FAILED = "running", "complete", "failed"
DEMO_PREFIX = "demo"
"""Every demo snapshot's ``source`` starts with this; no real refresh's does."""


def is_demo_source(source: str) -> bool:
    """True for a snapshot written by ``hubpulse demo``: answers say its data is illustrative."""
    return source.startswith(DEMO_PREFIX)


DEMO_SNAPSHOT = schema.snapshots.c.source.startswith(DEMO_PREFIX)
"""SQL: the snapshot row is demo data."""


def same_kind_as(source: str) -> ColumnElement[bool]:
    """SQL: the snapshot row is demo data if ``source`` is, real data if it is not; a figure
    never compares demo data with real data."""
    return DEMO_SNAPSHOT if is_demo_source(source) else ~DEMO_SNAPSHOT
