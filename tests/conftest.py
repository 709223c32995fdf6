"""Shared fixtures: a clean environment, a migrated store on SQLite and on PostgreSQL, and the
harness's FakeSlack."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from huggingface_hub import constants as hf_constants
from sqlalchemy import Engine, create_engine, text

from bot.store.engine import make_engine, upgrade
from tests.fakes.slack import FakeSlack
from tests.slack_harness import harness_slack

POSTGRES_URL = os.environ.get(
    "HUBPULSE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

_SCRUBBED_PREFIXES = ("SLACK_", "HUBPULSE_", "HF_")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """No developer token or setting leaks into a test, and no test reaches the real Hub.

    huggingface_hub reads its environment once, when the test modules import it: the variables
    set here reach subprocesses, and the one it would need in this process (telemetry, whose
    agent detection asks ``{ENDPOINT}/api/agent-harnesses`` of huggingface.co) is set directly,
    for the tests that build an ``HfApi`` without ``bot.ingest.hub.connect``.
    """
    for name in list(os.environ):
        if name.startswith(_SCRUBBED_PREFIXES) and name != "HUBPULSE_TEST_POSTGRES_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf-home")))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    monkeypatch.setenv("MPLBACKEND", "Agg")


def _postgres_available() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"no PostgreSQL at {POSTGRES_URL}: {type(exc).__name__}"
    return None


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    reason = _postgres_available()
    if reason:
        pytest.skip(reason)
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh schema on the real PostgreSQL server, dropped afterwards."""
    schema_name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema_name}"'))
    separator = "&" if "?" in postgres_admin_url else "?"
    url = f"{postgres_admin_url}{separator}options=-csearch_path%3D{schema_name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema_name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'hubpulse.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each store test runs on embedded SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """FakeSlack with the harness's workspace, channel and user (``tests.slack_harness``); a
    test module that needs another Slack defines its own ``fake``."""
    with harness_slack() as running:
        yield running


SERIAL_MODULES = frozenset(
    {
        "test_answer_delivery.py",
        "test_health.py",
        "test_migrations.py",
        "test_packaging.py",
        "test_scheduler_signals.py",
        "test_serve.py",
        "test_socket_mode.py",
        "test_stop_signals.py",
    }
)
"""Modules (besides ``tests/faults/``) whose tests run real processes or bound real time."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``pytest -n`` (pytest-xdist, ``--dist loadgroup``) the tests that run real
    processes or bound real time share one worker, one at a time, so that their deadlines are
    never measured against another test's load; the rest spread over the other workers."""
    for item in items:
        path = item.path
        if path.parent.name == "faults" or path.name in SERIAL_MODULES:
            item.add_marker(pytest.mark.xdist_group("processes"))
