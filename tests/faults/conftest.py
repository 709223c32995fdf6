"""The fault tests' PostgreSQL: a migrated schema holding the fixture snapshots, and the proxy
that stands between it and the server under test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.faults.proxy import FaultProxy
from tests.slack_harness import migrated_with_snapshots

POSTGRES_PORT = 5432


@pytest.fixture
def world(postgres_url: str) -> str:
    """A migrated schema on the real PostgreSQL with two fresh snapshots."""
    return migrated_with_snapshots(postgres_url, now=datetime.now(UTC))


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    with FaultProxy(("127.0.0.1", POSTGRES_PORT)) as running:
        yield running
