"""What Slack said about one delivery, recorded in one transaction.

After the post (``bot.delivery.sender``), one transaction writes all that the outcome changes:

* sent: the ledger row is ``sent`` with Slack's message ts, and the channel's failure count
  starts again (``bot.channels.pausing``);
* an outage: the row goes back to ``pending`` and is retried with back-off
  (``RETRY_DELAYS``), or fails once Slack has not taken it for ``GIVE_UP_AFTER``;
* a channel or workspace problem: the row fails and the failure is counted against the
  channel; when that pauses the channel, its other pending deliveries fail too;
* Slack rejected our message: the row fails, and the channel is not blamed.

A digest also records its run for ``/digest status`` (``bot.channels.digest_schedule``); a
sent one moves the baseline the next digest compares with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, update

from bot.channels import digest_schedule, pausing
from bot.channels.channel import Channel
from bot.channels.ledger import DIGEST, FAILED, PENDING, SENT, Delivery
from bot.store.channel_tables import deliveries

OUTAGE, CHANNEL, REJECTED = "outage", "channel", "rejected"
"""Why a post failed: Slack was unavailable, the channel or workspace cannot take posts, or
Slack rejected the message itself."""
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
)
GIVE_UP_AFTER = timedelta(days=2)
"""A delivery Slack could not take for this long is marked failed instead of retried."""


@dataclass(frozen=True)
class Recorded:
    """What a failed post left: the row's status (``pending``, to retry later, or
    ``failed``) and whether the failure paused the channel."""

    status: str
    paused: bool = False


def sent(engine: Engine, item: Delivery, message_ts: str, now: datetime) -> None:
    """Record a post Slack accepted."""
    with engine.begin() as c:
        c.execute(
            update(deliveries)
            .where(deliveries.c.id == item.id)
            .values(status=SENT, sent_at=now, message_ts=message_ts, last_error=None)
        )
        pausing.record_success(c, item.channel)
        if item.kind == DIGEST:
            digest_schedule.record_run(
                c,
                item.channel,
                now,
                "sent, late" if item.late else "sent",
                period=item.period_key,
                snapshot_id=item.snapshot_id,
            )


def failed(engine: Engine, item: Delivery, reason: str, code: str, now: datetime) -> Recorded:
    """Record a post that failed for ``reason`` with Slack's error ``code``."""
    with engine.begin() as c:
        if reason == OUTAGE:
            recorded, result = _outage(c, item, code, now)
        elif reason == CHANNEL:
            _fail(c, item, code)
            paused = pausing.record_failure(c, item.channel, code, now)
            if paused:
                _fail_pending(c, item.channel, f"paused after {code}")
            recorded = Recorded(FAILED, paused)
            result = f"failed: {pausing.explain(code)} (`{code}`)"
        else:
            _fail(c, item, code)
            recorded, result = Recorded(FAILED), f"failed: Slack rejected the message ({code})"
        if item.kind == DIGEST:
            digest_schedule.record_run(c, item.channel, now, result, period=item.period_key)
    return recorded


def retry_at(item: Delivery, now: datetime) -> datetime | None:
    """When to try again after an outage: later after each attempt; None once Slack has not
    taken the delivery for ``GIVE_UP_AFTER``."""
    if now - item.created_at > GIVE_UP_AFTER:
        return None
    return now + RETRY_DELAYS[min(max(item.attempts - 1, 0), len(RETRY_DELAYS) - 1)]


def _outage(
    connection: Connection, item: Delivery, code: str, now: datetime
) -> tuple[Recorded, str]:
    later = retry_at(item, now)
    if later is None:
        _fail(connection, item, f"gave up after {GIVE_UP_AFTER.days} days: {code}")
        return Recorded(FAILED), f"failed: {code}"
    connection.execute(
        update(deliveries)
        .where(deliveries.c.id == item.id, deliveries.c.status != SENT)
        .values(status=PENDING, next_attempt_at=later, last_error=code[:500])
    )
    return Recorded(PENDING), f"Slack unavailable ({code}); will retry"


def _fail(connection: Connection, item: Delivery, error: str) -> None:
    connection.execute(
        update(deliveries)
        .where(deliveries.c.id == item.id, deliveries.c.status != SENT)
        .values(status=FAILED, last_error=error[:500])
    )


def _fail_pending(connection: Connection, channel: Channel, error: str) -> None:
    """Give up every pending delivery of a channel (it was paused)."""
    d = deliveries.c
    connection.execute(
        update(deliveries)
        .where(
            d.team_id == channel.team_id, d.channel_id == channel.channel_id, d.status == PENDING
        )
        .values(status=FAILED, last_error=error[:500])
    )
