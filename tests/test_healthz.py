"""``GET /healthz`` (and the mounted ``/metrics``) on the HTTP server ``hubpulse serve`` runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.ops import metrics
from tests.fakes.slack import FakeSlack
from tests.slack_harness import BOT_TOKEN, TEAM, SlackHarness, store_fixture_snapshots


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        server.add_workspace(TEAM, BOT_TOKEN)
        yield server


def test_an_empty_cache_is_unhealthy(fake: FakeSlack, sqlite_engine: Engine):
    with SlackHarness(fake, sqlite_engine) as harness:
        reply = harness.get("/healthz")
    assert reply.status == 503
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["status"] == "empty"
    assert reply.json()["snapshot_id"] is None


def test_a_fresh_snapshot_is_healthy_and_its_age_is_shown(fake: FakeSlack, sqlite_engine: Engine):
    store_fixture_snapshots(sqlite_engine)
    with SlackHarness(fake, sqlite_engine, max_age=timedelta(hours=36)) as harness:
        reply = harness.get("/healthz")
        assert reply.status == 200
        assert reply.json()["status"] == "ok"
        assert reply.json()["age_seconds"] == 3600
        assert reply.json()["max_age_seconds"] == 36 * 3600

        harness.clock.advance(timedelta(hours=36))
        stale = harness.get("/healthz")
    assert stale.status == 503
    assert stale.json()["status"] == "stale"
    assert stale.json()["age_seconds"] == 37 * 3600


def test_extra_routes_are_mounted_beside_slack(fake: FakeSlack, sqlite_engine: Engine):
    routes = {"/metrics": metrics.wsgi_app}
    with SlackHarness(fake, sqlite_engine, routes=routes) as harness:
        scraped = harness.get("/metrics")
        unknown = harness.get("/nothing-here")
    assert scraped.status == 200
    assert b"hubpulse_commands" in scraped.body
    assert unknown.status == 404
