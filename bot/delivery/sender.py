"""Sending ledger deliveries to Slack: one claim, one post and one record per message.

For each message the sender makes three calls, each into one module: it claims the delivery
(``bot.channels.ledger``, one transaction committed before Slack is called), posts it
(``bot.delivery.poster``), and hands what Slack said to ``bot.channels.outcome``, which records
it in one transaction. Slack's answers fall in three groups:

* an outage (HTTP 5xx, a connection error, 429s beyond the client's own waits): the delivery
  stays pending and is retried later, with back-off;
* a channel or workspace problem (``not_in_channel``, ``channel_not_found``, ``is_archived``,
  ``account_inactive``, ``invalid_auth``, ``token_revoked``, the app uninstalled): the delivery
  fails, the failure is counted against that channel's subscriptions and digest (and pauses
  them after a few), and other channels carry on;
* anything else (Slack rejected our message): the delivery fails and the error is logged as a
  bug, without blaming the channel.

A digest's chart is drawn and attached in the message's thread after the record: the message
is out by then.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.answers.message import Chart
from bot.channels import ledger, outcome
from bot.channels.channel import Channel
from bot.channels.ledger import Delivery
from bot.channels.outcome import CHANNEL, OUTAGE, REJECTED
from bot.channels.pausing import PERMANENT_ERRORS
from bot.core.clock import Clock
from bot.delivery.poster import NotInstalled, Poster
from bot.slackapi.clients import error_code

log = logging.getLogger(__name__)

SENT, RETRY, FAILED, BUSY, DONE = "sent", "retry", "failed", "busy", "done"
TRANSIENT_CODES = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
METADATA_EVENT = "hubpulse_delivery"
CLAIM_BATCH = 50


@dataclass(frozen=True)
class Attempt:
    """What happened to one delivery: ``sent``, ``retry`` (left pending), ``failed``,
    ``busy`` (another sender holds it) or ``done`` (sent or failed before)."""

    key: str
    outcome: str
    error: str | None = None
    paused: bool = False
    late: bool = False


class Pacer:
    """At most one post per channel per ``interval`` seconds (Slack's chat.postMessage limit)."""

    def __init__(
        self,
        interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._last: dict[tuple[str, str], float] = {}

    def wait(self, channel: Channel) -> None:
        key = (channel.team_id, channel.channel_id)
        last = self._last.get(key)
        if last is not None:
            delay = self.interval - (self._monotonic() - last)
            if delay > 0:
                self._sleep(delay)
        self._last[key] = self._monotonic()


def classify(exc: Exception) -> tuple[str, str]:
    """(``outage`` | ``channel`` | ``rejected``, error code) for a failed post.

    An unexpected exception is logged and retried with back-off (then given up): a bug must
    not lose the message, nor retry it in a tight loop.
    """
    if isinstance(exc, NotInstalled):
        return CHANNEL, "not_installed"
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        if status >= 500:
            return OUTAGE, f"http_{status}"
        code = error_code(exc)
        if status == 429 or code in TRANSIENT_CODES:
            return OUTAGE, code
        if code in PERMANENT_ERRORS:
            return CHANNEL, code
        return REJECTED, code
    if isinstance(exc, OSError):
        return OUTAGE, f"{type(exc).__name__}: {exc}"[:200]
    log.error("unexpected error while posting", exc_info=exc)
    return OUTAGE, f"{type(exc).__name__}: {exc}"[:200]


class Sender:
    """Posts claimed deliveries; one instance per pass (its pacer spaces posts per channel)."""

    def __init__(
        self,
        engine: Engine,
        poster: Poster,
        clock: Clock,
        *,
        charts: Callable[[int], Chart | None] | None = None,
        pacer: Pacer | None = None,
        claimer: str | None = None,
    ) -> None:
        self.engine = engine
        self.poster = poster
        self.clock = clock
        self.charts = charts
        self.pacer = pacer or Pacer()
        self.claimer = claimer or ledger.new_claimer()

    def send_new(
        self,
        channel: Channel,
        kind: str,
        period_key: str,
        payload: dict[str, object],
        *,
        snapshot_id: int | None = None,
        late: bool = False,
    ) -> Attempt:
        claim = ledger.claim_new(
            self.engine,
            channel,
            kind,
            period_key,
            dict(payload),
            self.clock.now(),
            self.claimer,
            snapshot_id=snapshot_id,
            late=late,
        )
        if claim.won is not None:
            return self.send(claim.won)
        taken = claim.taken
        if taken is None:  # deleted meanwhile (the workspace was forgotten)
            return Attempt(f"{channel.team_id}/{channel.channel_id}/{kind}", DONE)
        busy = taken.status in (ledger.PENDING, ledger.CLAIMED)
        return Attempt(taken.key, BUSY if busy else DONE, taken.last_error, late=taken.late)

    def send_due(self) -> list[Attempt]:
        """Post the pending deliveries whose time came (new alerts, retries) and claims
        abandoned by a dead process, claiming a batch at a time so claims stay fresh."""
        attempts: list[Attempt] = []
        while True:
            batch = ledger.claim_due(self.engine, self.clock.now(), self.claimer, CLAIM_BATCH)
            attempts += [self.send(item) for item in batch]
            if len(batch) < CLAIM_BATCH:
                return attempts

    def send(self, item: Delivery) -> Attempt:
        """Post a delivery this sender has claimed and record the outcome."""
        key = item.key
        message = {
            "text": item.payload["text"],
            "metadata": {"event_type": METADATA_EVENT, "event_payload": {"key": key}},
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if item.payload.get("blocks"):
            message["blocks"] = item.payload["blocks"]
        self.pacer.wait(item.channel)
        try:
            ts = self.poster.post(item.channel, message)
        except Exception as exc:
            return self._failed(item, key, exc)
        outcome.sent(self.engine, item, ts, self.clock.now())
        self._attach_chart(item, key, ts)
        log.info("delivered %s", key)
        return Attempt(key, SENT, late=item.late)

    def _attach_chart(self, item: Delivery, key: str, ts: str) -> None:
        """The chart goes in the message's thread; the message is out already, so a chart
        that cannot be drawn or uploaded is logged and the pass carries on."""
        chart_of = item.payload.get("chart_snapshot_id")
        if self.charts is None or not isinstance(chart_of, int):
            return
        try:
            chart = self.charts(chart_of)
            if chart is not None:
                self.poster.upload(item.channel, chart.png, chart.title, ts)
        except Exception:
            log.exception("could not attach the chart to %s", key)

    def _failed(self, item: Delivery, key: str, exc: Exception) -> Attempt:
        reason, code = classify(exc)
        recorded = outcome.failed(self.engine, item, reason, code, self.clock.now())
        kept = recorded.status == ledger.PENDING
        if reason == OUTAGE:
            log.warning(
                "Slack unavailable for %s (%s): %s", key, code, "will retry" if kept else "gave up"
            )
        elif reason == REJECTED:
            log.error("Slack rejected %s: %s", key, code)
        else:
            paused = " (paused)" if recorded.paused else ""
            log.warning("cannot deliver %s: %s%s", key, code, paused)
        return Attempt(key, RETRY if kept else FAILED, code, paused=recorded.paused)
