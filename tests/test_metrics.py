"""Prometheus metrics: command counts and latencies, refreshes, snapshot age, deliveries."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from wsgiref.util import setup_testing_defaults

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, insert

from bot.core.clock import FrozenClock
from bot.core.errors import UserError
from bot.ops import metrics
from bot.ops.metrics import DeliveryCounts, sample
from bot.store.channel_tables import deliveries
from bot.store.reader import Reader
from bot.store.writer import begin_snapshot, fail_snapshot
from tests.fixtures_cache import NOW, T1, store_world, world_cache


@pytest.fixture(autouse=True)
def unbound() -> Iterator[None]:
    """Each test binds its own sources; none is left behind for the next."""
    metrics.bind(None)
    yield
    metrics.bind(None)


def scrape() -> dict[str, float]:
    """Every sample of one scrape of ``/metrics``, by name and labels."""
    body, content_type = metrics.metrics_response()
    assert content_type.startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            found[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return found


def count(command: str, outcome: str) -> float:
    return sample("hubpulse_commands_total", {"command": command, "outcome": outcome}) or 0.0


def test_commands_are_counted_and_timed_by_outcome(caplog):
    caplog.set_level(logging.INFO, logger="hubpulse.commands")
    ticks = iter([10.0, 10.25, 20.0, 20.5, 30.0, 34.0])
    before = {o: count("/metrics-test", o) for o in ("ok", "user_error", "error")}
    with metrics.track_command("/metrics-test", "T1", timer=lambda: next(ticks)):
        pass
    with (
        pytest.raises(UserError),
        metrics.track_command("/metrics-test", "T1", timer=lambda: next(ticks)),
    ):
        raise UserError("no org called x")
    with (
        pytest.raises(RuntimeError),
        metrics.track_command("/metrics-test", "T2", timer=lambda: next(ticks)),
    ):
        raise RuntimeError("bug")
    for outcome in ("ok", "user_error", "error"):
        assert count("/metrics-test", outcome) == before[outcome] + 1
    scraped = scrape()
    key = "hubpulse_command_latency_seconds_sum{command=/metrics-test,outcome=error}"
    assert scraped[key] >= 4.0
    assert scraped["hubpulse_commands_total{command=/metrics-test,outcome=ok}"] >= 1
    bucket = "hubpulse_command_latency_seconds_bucket{command=/metrics-test,le=0.5,outcome=ok}"
    assert scraped[bucket] >= 1
    events = [r.__dict__ for r in caplog.records if r.name == "hubpulse.commands"]
    assert [(e["command"], e["team_id"], e["outcome"], e["latency_ms"]) for e in events] == [
        ("/metrics-test", "T1", "ok", 250.0),
        ("/metrics-test", "T1", "user_error", 500.0),
        ("/metrics-test", "T2", "error", 4000.0),
    ]


def test_refresh_duration_is_observed_with_its_outcome():
    key = "hubpulse_refresh_duration_seconds_count"
    ok_before = sample(key, {"outcome": "ok"}) or 0
    error_before = sample(key, {"outcome": "error"}) or 0
    ticks = iter([0.0, 95.0, 100.0, 101.0])
    with metrics.track_refresh(timer=lambda: next(ticks)):
        pass
    with pytest.raises(TimeoutError), metrics.track_refresh(timer=lambda: next(ticks)):
        raise TimeoutError("hub down")
    assert sample(key, {"outcome": "ok"}) == ok_before + 1
    assert sample(key, {"outcome": "error"}) == error_before + 1
    bucket = sample("hubpulse_refresh_duration_seconds_bucket", {"outcome": "ok", "le": "120.0"})
    assert bucket is not None
    assert bucket >= 1


def test_snapshot_age_is_computed_at_scrape_time(engine):
    store_world(engine)
    clock = FrozenClock(NOW)
    metrics.bind(Reader(engine, clock=clock))
    first = scrape()
    assert first["hubpulse_latest_snapshot_age_seconds"] == (NOW - T1).total_seconds()
    assert first["hubpulse_latest_refresh_duration_seconds"] == 300
    assert first["hubpulse_last_refresh_failed"] == 0
    assert first["hubpulse_database_up"] == 1
    clock.advance(timedelta(hours=2))
    fail_snapshot(engine, begin_snapshot(engine, NOW, "test", 100), "hub down", NOW)
    second = scrape()
    assert second["hubpulse_latest_snapshot_age_seconds"] == (NOW - T1).total_seconds() + 7200
    assert second["hubpulse_last_refresh_failed"] == 1


def test_an_empty_cache_has_no_age_but_the_database_is_up(sqlite_engine):
    metrics.bind(Reader(sqlite_engine))
    scraped = scrape()
    assert "hubpulse_latest_snapshot_age_seconds" not in scraped
    assert scraped["hubpulse_database_up"] == 1


def test_an_unreachable_database_does_not_break_the_scrape(caplog):
    down = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    metrics.bind(Reader(down))
    with caplog.at_level(logging.WARNING):
        scraped = scrape()
    assert scraped["hubpulse_database_up"] == 0
    assert any("database unavailable" in r.getMessage() for r in caplog.records)


def test_deliveries_are_read_from_the_ledger_at_scrape_time(engine):
    metrics.bind(world_cache(engine))
    empty = scrape()
    assert (empty["hubpulse_deliveries_sent_total"], empty["hubpulse_deliveries_pending"]) == (0, 0)
    now = datetime(2026, 3, 2, tzinfo=UTC)
    statuses = ["sent", "sent", "sent", "failed", "pending", "claimed"]
    with engine.begin() as connection:
        connection.execute(
            insert(deliveries),
            [
                {
                    "team_id": "T1",
                    "channel_id": f"C{i}",
                    "kind": "digest",
                    "period_key": "2026-W10",
                    "status": status,
                    "payload": "{}",
                    "created_at": now,
                }
                for i, status in enumerate(statuses)
            ],
        )
    scraped = scrape()
    assert scraped["hubpulse_deliveries_sent_total"] == 3
    assert scraped["hubpulse_deliveries_failed_total"] == 1
    assert scraped["hubpulse_deliveries_pending"] == 2


def test_a_delivery_source_can_be_given(sqlite_engine):
    metrics.bind(Reader(sqlite_engine), delivery_source=lambda: DeliveryCounts(7, 2, 1))
    scraped = scrape()
    assert scraped["hubpulse_deliveries_sent_total"] == 7
    assert scraped["hubpulse_deliveries_failed_total"] == 2
    assert scraped["hubpulse_deliveries_pending"] == 1
    metrics.set_delivery_source(lambda: DeliveryCounts(8, 2, 0))
    assert scrape()["hubpulse_deliveries_sent_total"] == 8


def test_openmetrics_is_served_when_asked_for():
    body, content_type = metrics.metrics_response("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert body.rstrip().endswith(b"# EOF")


def test_the_wsgi_app_serves_the_same_registry():
    environ: dict[str, object] = {"PATH_INFO": "/metrics", "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    status: list[str] = []
    body = b"".join(metrics.wsgi_app(environ, lambda s, h: status.append(s)))
    assert status == ["200 OK"]
    assert b"# TYPE hubpulse_commands_total counter" in body
