"""Prometheus metrics, served at ``GET /metrics`` in HTTP mode.

Events (commands, refreshes run in this process) are counted as they happen. State that lives
in the database (the latest snapshot's age and how long its refresh took, whether the last
refresh failed, the delivery ledger) is read at scrape time from the sources given to ``bind``,
so every replica reports the same figures whichever process did the work (with compose, the
scheduler refreshes but only the HTTP replicas are scraped).

The HTTP server calls ``metrics_response(accept_header)`` and sends the bytes back with the
returned content type (or mounts the WSGI app ``wsgi_app``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlalchemy import Engine, column, func, inspect, select, table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.expression import ColumnClause

from bot.core.errors import StoreUnavailable, UserError
from bot.core.logs import log_command
from bot.store.snapshots import FAILED, RUNNING

if TYPE_CHECKING:
    from bot.store.reader import Reader

log = logging.getLogger(__name__)

OK, USER_ERROR, ERROR, UNAVAILABLE = "ok", "user_error", "error", "store_unavailable"
#: How an answer ended: posted where it was asked for, sent privately because Slack would not
#: take the public post ("Slack was busy"), or not delivered at all.
DELIVERED, FALLBACK, LOST = "delivered", "fallback", "lost"
DELIVERIES_TABLE = "deliveries"
SENT_STATUSES = frozenset({"sent"})
FAILED_STATUSES = frozenset({"failed"})

REGISTRY = CollectorRegistry(auto_describe=True)

COMMANDS = Counter(
    "hubpulse_commands",
    "Slash commands handled, by command and outcome (ok, user_error, store_unavailable, error).",
    ["command", "outcome"],
    registry=REGISTRY,
)
COMMAND_LATENCY = Histogram(
    "hubpulse_command_latency_seconds",
    "Time from receiving a command to having its answer, by command and outcome.",
    ["command", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30),
    registry=REGISTRY,
)
ANSWERS = Counter(
    "hubpulse_answers",
    "Answers sent to Slack, by how they ended (delivered, fallback: privately because Slack "
    "refused the public post, lost).",
    ["outcome"],
    registry=REGISTRY,
)
ANSWER_RETRIES = Counter(
    "hubpulse_answer_retries",
    "Calls to Slack for answers tried again after a 429, a 5xx or a connection error.",
    registry=REGISTRY,
)
REFRESH_DURATION = Histogram(
    "hubpulse_refresh_duration_seconds",
    "Duration of the Hub cache refreshes this process ran, by outcome (ok, error).",
    ["outcome"],
    buckets=(10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
    registry=REGISTRY,
)


@dataclass(frozen=True)
class DeliveryCounts:
    sent: int
    failed: int
    pending: int


DeliverySource = Callable[[], DeliveryCounts | None]


def deliveries_from_database(engine: Engine) -> DeliveryCounts | None:
    """Counts by status from the delivery ledger; None while the table does not exist.

    A delivery is sent, failed, or else still pending (queued, claimed, waiting to retry).
    """
    if not inspect(engine).has_table(DELIVERIES_TABLE):
        return None
    status: ColumnClause[str] = column("status")
    with engine.connect() as connection:
        rows = connection.execute(
            select(status, func.count()).select_from(table(DELIVERIES_TABLE)).group_by(status)
        ).all()
    by_status = {str(status): int(count) for status, count in rows}
    sent = sum(n for s, n in by_status.items() if s in SENT_STATUSES)
    failed = sum(n for s, n in by_status.items() if s in FAILED_STATUSES)
    return DeliveryCounts(sent, failed, sum(by_status.values()) - sent - failed)


class _StateCollector(Collector):
    """Figures computed from the database at each scrape."""

    def __init__(self) -> None:
        self.reader: Reader | None = None
        self.deliveries: DeliverySource | None = None

    def collect(self) -> Iterator[Metric]:
        if self.reader is None:
            return
        up = GaugeMetricFamily("hubpulse_database_up", "1 when the database answered the scrape.")
        try:
            yield from self._snapshot_age(self.reader)
            if self.deliveries is not None:
                yield from self._deliveries(self.deliveries)
        except SQLAlchemyError as exc:
            log.warning("metrics: database unavailable: %s", type(exc).__name__)
            up.add_metric([], 0)
        else:
            up.add_metric([], 1)
        yield up

    def _snapshot_age(self, reader: Reader) -> Iterator[Metric]:
        """Read from the snapshots table, so they are right whichever process refreshed."""
        attempts = [s for s in reader.snapshots(status=None, limit=5) if s.status != RUNNING]
        if attempts:
            failed = GaugeMetricFamily(
                "hubpulse_last_refresh_failed", "1 when the most recent refresh failed."
            )
            failed.add_metric([], 1 if attempts[0].status == FAILED else 0)
            yield failed
        snapshot = reader.latest_or_none()
        if snapshot is None:
            return
        age = GaugeMetricFamily(
            "hubpulse_latest_snapshot_age_seconds",
            "Age of the latest complete snapshot of the Hub cache.",
        )
        age.add_metric([], reader.age(snapshot).total_seconds())
        yield age
        if snapshot.finished_at is not None:
            took = GaugeMetricFamily(
                "hubpulse_latest_refresh_duration_seconds",
                "How long the refresh that took the latest complete snapshot ran.",
            )
            took.add_metric([], (snapshot.finished_at - snapshot.taken_at).total_seconds())
            yield took

    def _deliveries(self, source: DeliverySource) -> Iterator[Metric]:
        counts = source()
        if counts is None:
            return
        sent = CounterMetricFamily("hubpulse_deliveries_sent", "Deliveries posted to Slack.")
        sent.add_metric([], counts.sent)
        failed = CounterMetricFamily(
            "hubpulse_deliveries_failed", "Deliveries given up on (Slack refused them)."
        )
        failed.add_metric([], counts.failed)
        pending = GaugeMetricFamily(
            "hubpulse_deliveries_pending", "Deliveries waiting to be posted or retried."
        )
        pending.add_metric([], counts.pending)
        yield from (sent, failed, pending)


_STATE = _StateCollector()
REGISTRY.register(_STATE)


def bind(reader: Reader | None, delivery_source: DeliverySource | None = None) -> None:
    """Read scrape-time figures from ``cache`` (and the delivery ledger of its database).

    ``delivery_source`` overrides where delivery counts come from; by default they are read
    from the ``deliveries`` table once it exists. ``bind(None)`` stops reading the database.
    """
    _STATE.reader = reader
    if delivery_source is None and reader is not None:
        engine = reader.engine

        def delivery_source() -> DeliveryCounts | None:
            return deliveries_from_database(engine)

    _STATE.deliveries = delivery_source


def set_delivery_source(source: DeliverySource | None) -> None:
    """Take delivery counts from ``source`` (called at each scrape)."""
    _STATE.deliveries = source


def metrics_response(accept_header: str = "") -> tuple[bytes, str]:
    """The body and content type to answer ``GET /metrics`` with."""
    encoder, content_type = choose_encoder(accept_header)
    return encoder(REGISTRY), content_type


wsgi_app = make_wsgi_app(REGISTRY)
"""The same endpoint as a WSGI application."""


def observe_command(command: str, outcome: str, seconds: float) -> None:
    COMMANDS.labels(command, outcome).inc()
    COMMAND_LATENCY.labels(command, outcome).observe(seconds)


def observe_answer(outcome: str) -> None:
    ANSWERS.labels(outcome).inc()


def observe_answer_retry() -> None:
    ANSWER_RETRIES.inc()


def observe_refresh(seconds: float, outcome: str) -> None:
    REFRESH_DURATION.labels(outcome).observe(seconds)


def outcome_of(exc: BaseException | None) -> str:
    if exc is None:
        return OK
    if isinstance(exc, StoreUnavailable):
        return UNAVAILABLE
    return USER_ERROR if isinstance(exc, UserError) else ERROR


@contextmanager
def track_command(
    command: str, team_id: str, timer: Callable[[], float] = time.perf_counter
) -> Iterator[None]:
    """Count, time and log one command; an exception is recorded and re-raised.

    ``with track_command("/share", team_id): answer = run(args, context)``
    """
    start = timer()
    error: BaseException | None = None
    try:
        yield
    except BaseException as exc:
        error = exc
        raise
    finally:
        seconds = timer() - start
        outcome = outcome_of(error)
        observe_command(command, outcome, seconds)
        log_command(command, team_id=team_id, latency_ms=seconds * 1000, outcome=outcome)


@contextmanager
def track_refresh(timer: Callable[[], float] = time.perf_counter) -> Iterator[None]:
    """Time one refresh into ``hubpulse_refresh_duration_seconds``."""
    start = timer()
    outcome = ERROR
    try:
        yield
        outcome = OK
    finally:
        observe_refresh(timer() - start, outcome)


def sample(name: str, labels: Mapping[str, str] | None = None) -> float | None:
    """The current value of one sample (for tests and ``hubpulse`` diagnostics)."""
    return REGISTRY.get_sample_value(name, dict(labels or {}))
