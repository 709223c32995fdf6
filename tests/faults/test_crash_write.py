"""``kill -9`` of a real ``hubpulse refresh`` while it takes a snapshot, on SQLite and PostgreSQL.

The store already holds one good snapshot. A second refresh is started as a subprocess against
the fake Hub and killed with SIGKILL at a point the test detects, never after a guessed sleep:

* ``crawl``: the fake Hub holds a late page of the top-models listing open, so the process is
  mid-crawl with its ``running`` snapshot row committed;
* ``write`` (both databases): the snapshot transaction has started writing: on SQLite the
  test's own ``BEGIN IMMEDIATE`` finds the write lock taken, on PostgreSQL the process's
  backend (found by its ``application_name``) has a transaction id;
* ``stats`` (PostgreSQL): the backend is copying the snapshot's ``model_stats`` rows.

Then: the previous snapshot still answers (``hubpulse ask``, and the Reader), SQLite's
``integrity_check`` is ``ok`` and PostgreSQL shows no row of the killed snapshot, no lock and
no session left behind, and the next refresh succeeds and becomes the latest, the killed
snapshot marked abandoned. A kill inside a first refresh (an empty store, whose ``models``
indexes the writer drops while it fills the table) leaves the store empty, its indexes in place.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from bot.ingest.hub import connect
from bot.ingest.org_source import configured_registry, effective_registry
from bot.ingest.refresh import refresh
from bot.store import schema
from bot.store.engine import make_engine, upgrade
from bot.store.reader import Reader
from bot.store.snapshots import COMPLETE, FAILED, RUNNING
from commands.base import Context
from commands.dispatch import dispatch
from tests.fakes.hub import FakeHub, make_record
from tests.faults.gated_hub import GatedHub

START = "from bot.cli import run; run()"
ROOT = Path(__file__).resolve().parents[2]
MODELS = 10_000
"""Enough models that writing a snapshot takes a while (the write stages can be seen)."""
PAGE_SIZE = 1_000
HELD_PAGE = 8
"""The top-models page the fake Hub holds open at the ``crawl`` kill point (of 10)."""
DEADLINE = 60.0
"""How long any one step may take before the test gives up (generous: slow CI machines)."""
POLL = 0.002


def _records() -> list[dict[str, Any]]:
    return [make_record("Qwen/Qwen3-8B", downloads=10_000_000)] + [
        make_record(f"fan{i % 500}/model-{i}", downloads=MODELS - i, parents=["Qwen/Qwen3-8B"])
        for i in range(MODELS - 1)
    ]


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return _records()


@pytest.fixture
def hub(records: list[dict[str, Any]]) -> Iterator[GatedHub]:
    fake = GatedHub(records, page_size=PAGE_SIZE)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@dataclass
class Refresh:
    """A ``hubpulse refresh`` subprocess; its PostgreSQL sessions are named ``app``."""

    process: subprocess.Popen[str]
    log: Path
    app: str

    def output(self) -> str:
        return self.log.read_text()[-3000:]


def _env(url: str, hub: FakeHub, app: str) -> dict[str, str]:
    return {
        **os.environ,
        "HUBPULSE_DATABASE_URL": url,
        "HF_ENDPOINT": hub.url,
        "PGAPPNAME": app,  # libpq names the process's sessions: the test finds its backend
        "PYTHONPATH": str(ROOT),
    }


def _start(url: str, hub: FakeHub, tmp_path: Path, *args: str) -> Refresh:
    app = f"hubpulse-crash-{uuid.uuid4().hex[:8]}"
    log = tmp_path / f"{app}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", START, *args],
            cwd=tmp_path,
            env=_env(url, hub, app),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return Refresh(process, log, app)


def _run(url: str, hub: FakeHub, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", START, *args],
        cwd=tmp_path,
        env=_env(url, hub, "hubpulse-crash-run"),
        capture_output=True,
        text=True,
        timeout=DEADLINE * 2,
        check=False,
    )


def _wait(condition: Callable[[], bool], refresh: Refresh, what: str) -> None:
    """Poll ``condition`` until it holds; fail if the refresh ends first or time runs out."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if refresh.process.poll() is not None:
            pytest.fail(f"the refresh ended before {what}:\n{refresh.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {DEADLINE} s:\n{refresh.output()}")
        time.sleep(POLL)


def _statuses(engine: Engine) -> list[tuple[int, str]]:
    snapshots = schema.snapshots
    with engine.connect() as connection:
        rows = connection.execute(
            select(snapshots.c.id, snapshots.c.status).order_by(snapshots.c.id)
        ).all()
    return [(int(r.id), str(r.status)) for r in rows]


def _running(engine: Engine) -> Callable[[], bool]:
    return lambda: any(status == RUNNING for _, status in _statuses(engine))


def _sqlite_write_locked(url: str) -> Callable[[], bool]:
    """True while another connection holds SQLite's write lock (the snapshot transaction)."""
    path = url.removeprefix("sqlite:///")

    def locked() -> bool:
        connection = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            return "locked" in str(exc)
        else:
            connection.execute("ROLLBACK")
            return False
        finally:
            connection.close()

    return locked


def _backend(engine: Engine, app: str) -> Callable[[], list[tuple[str, bool]]]:
    """The (query, has a transaction id) of each PostgreSQL session the process opened."""

    def sessions() -> list[tuple[str, bool]]:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT query, backend_xid IS NOT NULL AS writing FROM pg_stat_activity "
                    "WHERE application_name = :app"
                ),
                {"app": app},
            ).all()
        return [(str(r.query), bool(r.writing)) for r in rows]

    return sessions


def _kill_point(point: str, url: str, engine: Engine, hub: GatedHub, refresh: Refresh) -> None:
    """Return once the refresh is at ``point``."""
    if point == "crawl":
        _wait(hub.reached.is_set, refresh, "held page request")
        _wait(_running(engine), refresh, "running snapshot row")
        return
    _wait(_running(engine), refresh, "running snapshot row")  # begin_snapshot has committed
    if engine.dialect.name == "sqlite":
        assert point == "write"
        _wait(_sqlite_write_locked(url), refresh, "snapshot write transaction")
        return
    sessions = _backend(engine, refresh.app)
    if point == "write":
        _wait(lambda: any(writing for _, writing in sessions()), refresh, "writing backend")
    else:
        assert point == "stats"
        _wait(
            lambda: any(writing and "model_stats" in q for q, writing in sessions()),
            refresh,
            "COPY of model_stats",
        )


def _share_answer(engine: Engine) -> str:
    """``/share qwen`` as ``hubpulse ask`` answers it (the same dispatch, in this process)."""
    registry = effective_registry(engine, None)
    return dispatch("/share qwen", Context(Reader(engine, registry), engine)).text


def _seed(engine: Engine, hub: FakeHub) -> None:
    """The one good snapshot the store holds before the killed refresh (taken in this process:
    only the refreshes that matter here pay for a process start)."""
    upgrade(engine)
    refresh(engine, connect(hub.url, None), configured_registry(None), MODELS)


def _orphan_rows(engine: Engine, snapshot_id: int) -> dict[str, int]:
    counts = {}
    with engine.connect() as connection:
        for table in (schema.model_stats, schema.aggregates, schema.lineage_stats):
            counts[table.name] = int(
                connection.execute(
                    select(func.count())
                    .select_from(table)
                    .where(table.c.snapshot_id == snapshot_id)
                ).scalar_one()
            )
    return counts


def _kill_refresh_at(
    point: str, url: str, engine: Engine, hub: GatedHub, tmp_path: Path
) -> Refresh:
    """Start ``hubpulse refresh``, SIGKILL it at ``point``; return it, dead."""
    refresh = _start(url, hub, tmp_path, "refresh", "--top", str(MODELS))
    try:
        _kill_point(point, url, engine, hub, refresh)
        refresh.process.kill()
        refresh.process.wait(DEADLINE)
    finally:
        if refresh.process.poll() is None:
            refresh.process.kill()
            refresh.process.wait()
    hub.release.set()
    return refresh


def _indexes(engine: Engine) -> list[str]:
    """The secondary indexes on ``models``, as the database lists them."""
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'models' "
        "AND sql IS NOT NULL"
        if engine.dialect.name == "sqlite"
        else "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = 'models'"
    )
    with engine.connect() as connection:
        return sorted(connection.execute(text(query)).scalars())


KILL_POINTS = [
    pytest.param("sqlite", "crawl", id="sqlite-crawl"),
    pytest.param("sqlite", "write", id="sqlite-write"),
    pytest.param("postgresql", "crawl", id="postgresql-crawl", marks=pytest.mark.postgres),
    pytest.param("postgresql", "write", id="postgresql-write", marks=pytest.mark.postgres),
    pytest.param("postgresql", "stats", id="postgresql-stats", marks=pytest.mark.postgres),
]


@pytest.mark.parametrize(("backend", "point"), KILL_POINTS)
def test_kill_9_during_a_refresh_leaves_the_previous_snapshot_answering(
    backend: str,
    point: str,
    hub: GatedHub,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    engine = make_engine(url)
    try:
        _seed(engine, hub)
        [(good, _)] = _statuses(engine)
        before = _share_answer(engine)
        assert "Qwen" in before, before

        hub.hold(HELD_PAGE if point == "crawl" else None)
        hub.set_downloads("Qwen/Qwen3-8B", 20_000_000)  # the next snapshot differs
        refresh = _kill_refresh_at(point, url, engine, hub, tmp_path)
        killed_at = time.monotonic()
        [(_, good_status), (killed, killed_status)] = _statuses(engine)
        assert (good_status, killed_status) == (COMPLETE, RUNNING)  # killed: nothing said so

        # The previous snapshot answers, unchanged, and nothing of the killed one is visible.
        reader = Reader(engine)
        latest = reader.latest_or_none()
        assert latest is not None
        assert latest.id == good
        assert _share_answer(engine) == before
        assert _orphan_rows(engine, killed) == {
            "model_stats": 0,
            "aggregates": 0,
            "lineage_stats": 0,
        }
        if backend == "sqlite":
            with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
                assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        else:
            # The server ends the dead process's session, with its transaction and locks.
            sessions = _backend(engine, refresh.app)
            deadline = time.monotonic() + DEADLINE
            while sessions() and time.monotonic() < deadline:
                time.sleep(POLL)
            assert sessions() == []

        # The next refresh is not blocked, succeeds and becomes the latest.
        done = _run(url, hub, tmp_path, "refresh", "--top", str(MODELS))
        assert done.returncode == 0, done.stderr[-3000:]
        recovered = time.monotonic() - killed_at
        statuses = _statuses(engine)
        assert statuses[:2] == [(good, COMPLETE), (killed, FAILED)]
        assert statuses[2][1] == COMPLETE
        latest = reader.latest_or_none()
        assert latest is not None
        assert latest.id == statuses[2][0]
        assert _share_answer(engine) != before  # the new downloads answer
        with engine.connect() as connection:
            error = connection.execute(
                select(schema.snapshots.c.error).where(schema.snapshots.c.id == killed)
            ).scalar_one()
        assert error is not None
        assert error.startswith("abandoned")
        print(f"{backend} killed at {point}: next refresh complete {recovered:.1f} s after")
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_kill_9_during_a_first_refresh_leaves_an_empty_store_with_its_indexes(
    backend: str, hub: GatedHub, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """On an empty store the writer drops the ``models`` indexes while it fills the table
    (``bot.store.bulk.indexes_deferred``): a kill inside that write must leave them in place."""
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    engine = make_engine(url)
    try:
        upgrade(engine)
        indexes = _indexes(engine)
        assert indexes
        _kill_refresh_at("write", url, engine, hub, tmp_path)
        assert [status for _, status in _statuses(engine)] == [RUNNING]
        assert Reader(engine).latest_or_none() is None
        assert _indexes(engine) == indexes
        if backend == "sqlite":
            with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
                assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        done = _run(url, hub, tmp_path, "refresh", "--top", str(MODELS))
        assert done.returncode == 0, done.stderr[-3000:]
        assert [status for _, status in _statuses(engine)] == [FAILED, COMPLETE]
        assert _indexes(engine) == indexes
    finally:
        engine.dispose()
