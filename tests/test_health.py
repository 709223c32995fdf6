"""/healthz: 200 while the cache is fresh, 503 when stale, empty or unreachable; and the probe
the container's HEALTHCHECK runs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from sqlalchemy import create_engine

from bot.core.clock import FrozenClock
from bot.core.registry import load_registry
from bot.ops import probe
from bot.ops.health import ANSWER_WITHIN_SECONDS, health
from bot.store.engine import make_engine, upgrade
from bot.store.reader import Reader
from bot.store.writer import store_crawl
from tests.faults.proxy import FaultProxy
from tests.fixtures_cache import NOW, T1, crawl, store_world

LIMIT = timedelta(hours=36)


def test_a_fresh_cache_is_healthy(engine):
    store_world(engine)
    status, body = health(Reader(engine, clock=FrozenClock(NOW)), LIMIT)
    assert status == 200
    assert body["status"] == "ok"
    assert body["taken_at"] == T1.isoformat()
    assert body["age_seconds"] == int((NOW - T1).total_seconds())
    assert body["max_age_seconds"] == 36 * 3600


def test_a_cache_older_than_the_limit_is_unhealthy(engine):
    store_world(engine)
    clock = FrozenClock(T1 + LIMIT)
    assert health(Reader(engine, clock=clock), LIMIT)[0] == 200
    clock.advance(timedelta(seconds=1))
    status, body = health(Reader(engine, clock=clock), LIMIT)
    assert (status, body["status"]) == (503, "stale")


def test_an_empty_cache_is_unhealthy(sqlite_engine):
    assert health(Reader(sqlite_engine), LIMIT) == (
        503,
        {"status": "empty", "snapshot_id": None, "max_age_seconds": 36 * 3600},
    )


def test_an_unreachable_database_is_unhealthy():
    status, body = health(Reader(create_engine("postgresql+psycopg://x@127.0.0.1:1/x")), LIMIT)
    assert (status, body["status"]) == (503, "database_unavailable")


def test_a_hung_database_is_unhealthy_within_the_answer_limit(postgres_url: str):
    with FaultProxy(("127.0.0.1", 5432)) as proxy:
        engine = make_engine(proxy.url(postgres_url))
        upgrade(engine)
        reader = Reader(engine, clock=FrozenClock(NOW))
        assert health(reader, LIMIT)[1]["status"] == "empty"
        proxy.hang()
        start = time.monotonic()
        status, body = health(reader, LIMIT)
        took = time.monotonic() - start
        assert (status, body["status"]) == (503, "database_unavailable")
        assert took < ANSWER_WITHIN_SECONDS
        proxy.recover()
        assert health(reader, LIMIT)[1]["status"] == "empty"
        engine.dispose()


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def healthz(sqlite_engine) -> Iterator[tuple[WSGIServer, FrozenClock]]:
    """A loopback HTTP server answering /healthz from a real cache."""
    store_world(sqlite_engine)
    clock = FrozenClock(NOW)
    reader = Reader(sqlite_engine, clock=clock)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        status, body = health(reader, LIMIT)
        reason = "OK" if status == 200 else "Service Unavailable"
        start_response(f"{status} {reason}", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, clock
    server.shutdown()
    server.server_close()


def test_the_probe_follows_healthz(healthz, monkeypatch):
    server, clock = healthz
    monkeypatch.setenv("HUBPULSE_PORT", str(server.server_port))
    assert probe.main([]) == 0
    clock.advance(LIMIT)
    assert probe.main([]) == 1


def test_the_probe_fails_when_nothing_listens(monkeypatch, capsys):
    monkeypatch.setenv("HUBPULSE_PORT", "1")
    assert probe.main([]) == 1
    assert "healthz:" in capsys.readouterr().err


def test_the_direct_probe_reads_the_database(sqlite_engine, sqlite_url, monkeypatch, capsys):
    """Socket Mode and the scheduler have no HTTP server: the probe asks the database."""
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", sqlite_url)
    assert probe.main(["--direct"]) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "empty"


def test_the_probe_goes_direct_in_socket_mode(sqlite_engine, sqlite_url, monkeypatch, capsys):
    """The container's probe runs on the system clock, so the snapshot is taken just now."""
    just_now = datetime.now(UTC)
    store_crawl(
        sqlite_engine,
        crawl(1),
        load_registry(),
        taken_at=just_now,
        finished_at=just_now,
        source="test",
        top_n=100,
    )
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A1-2-abc")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")
    assert probe.main([]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "ok"
