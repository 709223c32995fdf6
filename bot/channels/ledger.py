"""The delivery ledger: every digest and alert message is posted at most once per key.

A delivery's key is (workspace, channel, kind, period): a digest's period is the local date of
its scheduled run, an alert's is the snapshot it reports. One message is one claim, one post
and one record, each claim and each record one transaction:

1. *Claim* (here), committed before Slack is called so that every other process sees it:
   ``claim_new`` inserts the key with status ``claimed`` (the unique constraint makes a second
   insert do nothing) or, when the key exists, moves a ``pending`` row (or a stale claim) to
   ``claimed`` with a conditional update whose returned row says who won, and otherwise reads
   the row someone else holds or finished, all in one transaction. ``claim_due`` claims a batch
   of pending alerts and retries in one statement.
2. *Post*: only the winner posts (``bot.delivery.sender``).
3. *Record* (``bot.channels.outcome``): the row's new status, the channel's failure count and
   the digest's last run, in one transaction.

What can still happen twice, honestly: Slack has no idempotency key. If a process dies after
Slack accepted the post and before ``sent`` is committed (a few milliseconds), or if Slack
accepts a post whose answer never arrives (a timeout), the claim goes stale after
``STALE_CLAIM`` and the delivery is posted again. Everything else (restarts, retries, several
schedulers, ``hubpulse digest send`` run twice) posts once. Each message carries its ledger key
in Slack message metadata, so such a double can be traced.

Why a stale claim is not checked against the channel first: finding the key in the channel's
recent messages (``conversations.history``, reading the metadata) needs the
``channels:history`` and ``groups:history`` scopes (and ``im:history``/``mpim:history`` for
direct messages), which let the bot read every message of every conversation it is in, in
every workspace, to cover a process dying inside a window of a few milliseconds. hubpulse
does not ask for them. The window is kept as small as the order of the steps allows: the
post is the only call between the claim and the record, the record is the next statement after
Slack's answer, and everything else (the pacer's wait, the chart) happens before the post or
after the record. The cost: at most one duplicate message per process killed inside that
window, posted ``STALE_CLAIM`` later and traceable by its key.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, or_, select, update
from sqlalchemy.engine import RowMapping

from bot.channels.channel import Channel
from bot.core.clock import as_utc
from bot.store.channel_tables import deliveries
from bot.store.upsert import dialect_insert

PENDING, CLAIMED, SENT, FAILED = "pending", "claimed", "sent", "failed"
DIGEST, ALERT = "digest", "alert"
STALE_CLAIM = timedelta(minutes=10)
"""A claim older than this, not marked sent, is taken to belong to a process that died."""


@dataclass(frozen=True)
class Delivery:
    id: int
    channel: Channel
    kind: str
    period_key: str
    status: str
    payload: dict[str, Any]
    snapshot_id: int | None
    late: bool
    attempts: int
    last_error: str | None
    created_at: datetime
    claimed_by: str | None
    sent_at: datetime | None
    message_ts: str | None

    @property
    def key(self) -> str:
        c = self.channel
        return f"{c.team_id}/{c.channel_id}/{self.kind}/{self.period_key}"


def _delivery(row: RowMapping) -> Delivery:
    return Delivery(
        id=row["id"],
        channel=Channel(row["team_id"], row["channel_id"], row["enterprise_id"]),
        kind=row["kind"],
        period_key=row["period_key"],
        status=row["status"],
        payload=json.loads(row["payload"]),
        snapshot_id=row["snapshot_id"],
        late=bool(row["late"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        created_at=as_utc(row["created_at"]),
        claimed_by=row["claimed_by"],
        sent_at=as_utc(row["sent_at"]) if row["sent_at"] else None,
        message_ts=row["message_ts"],
    )


def new_claimer() -> str:
    """Who claims: host, process and a random part (two senders in one process differ)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _insert_new(connection: Connection, values: dict[str, Any]) -> Delivery | None:
    """Insert a delivery unless its key exists; the new row, or None when it existed."""
    statement = (
        dialect_insert(connection, deliveries)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["team_id", "channel_id", "kind", "period_key"])
        .returning(*deliveries.c)
    )
    row = connection.execute(statement).mappings().first()
    return _delivery(row) if row else None


def _values(
    channel: Channel,
    kind: str,
    period_key: str,
    payload: dict[str, Any],
    now: datetime,
    snapshot_id: int | None,
    late: bool,
) -> dict[str, Any]:
    return {
        "team_id": channel.team_id,
        "enterprise_id": channel.enterprise_id,
        "channel_id": channel.channel_id,
        "kind": kind,
        "period_key": period_key,
        "payload": json.dumps(payload, separators=(",", ":")),
        "snapshot_id": snapshot_id,
        "late": late,
        "created_at": now,
        "attempts": 0,
    }


@dataclass(frozen=True)
class Pending:
    """A delivery to add: where, what, and for which period."""

    channel: Channel
    kind: str
    period_key: str
    payload: dict[str, Any]
    snapshot_id: int | None = None


def enqueue(connection: Connection, items: Sequence[Pending], now: datetime) -> int:
    """Add pending deliveries in the caller's transaction, in one batched statement; keys
    that exist already are left alone. Returns how many were offered."""
    if not items:
        return 0
    statement = dialect_insert(connection, deliveries).on_conflict_do_nothing(
        index_elements=["team_id", "channel_id", "kind", "period_key"]
    )
    rows = [
        {
            **_values(i.channel, i.kind, i.period_key, i.payload, now, i.snapshot_id, late=False),
            "status": PENDING,
        }
        for i in items
    ]
    connection.execute(statement, rows)
    return len(rows)


def find(engine: Engine, channel: Channel, kind: str, period_key: str) -> Delivery | None:
    with engine.connect() as c:
        return find_in(c, channel, kind, period_key)


def find_in(
    connection: Connection, channel: Channel, kind: str, period_key: str
) -> Delivery | None:
    row = (
        connection.execute(select(deliveries).where(_key_is(channel, kind, period_key)))
        .mappings()
        .first()
    )
    return _delivery(row) if row else None


def _key_is(channel: Channel, kind: str, period_key: str) -> ColumnElement[bool]:
    d = deliveries.c
    return and_(
        d.team_id == channel.team_id,
        d.channel_id == channel.channel_id,
        d.kind == kind,
        d.period_key == period_key,
    )


def _claimable(now: datetime) -> ColumnElement[bool]:
    d = deliveries.c
    return or_(
        and_(d.status == PENDING, or_(d.next_attempt_at.is_(None), d.next_attempt_at <= now)),
        and_(d.status == CLAIMED, d.claimed_at < now - STALE_CLAIM),
    )


def _claim_values(now: datetime, claimer: str) -> dict[str, Any]:
    return {
        "status": CLAIMED,
        "claimed_at": now,
        "claimed_by": claimer,
        "attempts": deliveries.c.attempts + 1,
    }


def claim_due(engine: Engine, now: datetime, claimer: str, limit: int) -> list[Delivery]:
    """Claim up to ``limit`` deliveries to (re)try now, oldest first, in one statement.

    The claimable condition is checked again on each row it updates, so two senders running
    this at once never claim the same delivery (PostgreSQL re-checks it after a row lock).
    """
    due_ids = select(deliveries.c.id).where(_claimable(now)).order_by(deliveries.c.id).limit(limit)
    with engine.begin() as c:
        rows = (
            c.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(due_ids.scalar_subquery()), _claimable(now))
                .values(**_claim_values(now, claimer))
                .returning(*deliveries.c)
            )
            .mappings()
            .all()
        )
    return sorted((_delivery(row) for row in rows), key=lambda d: d.id)


@dataclass(frozen=True)
class Claim:
    """What ``claim_new`` got: ``won``, the delivery this sender now holds; or else ``taken``,
    the row as someone else holds or finished it (None when it vanished meanwhile: the
    workspace was forgotten)."""

    won: Delivery | None
    taken: Delivery | None = None


def _claim_existing(
    connection: Connection,
    channel: Channel,
    kind: str,
    period_key: str,
    now: datetime,
    claimer: str,
) -> Delivery | None:
    """Claim the row of a key if it is pending or abandoned (a conditional update)."""
    row = (
        connection.execute(
            update(deliveries)
            .where(_key_is(channel, kind, period_key), _claimable(now))
            .values(**_claim_values(now, claimer))
            .returning(*deliveries.c)
        )
        .mappings()
        .first()
    )
    return _delivery(row) if row else None


def claim_new(
    engine: Engine,
    channel: Channel,
    kind: str,
    period_key: str,
    payload: dict[str, Any],
    now: datetime,
    claimer: str,
    *,
    snapshot_id: int | None = None,
    late: bool = False,
) -> Claim:
    """Claim a delivery in one transaction: insert it already claimed; or, when its key
    exists, claim that row if it is pending or abandoned; or else read it (sent, failed, or
    being sent by someone else).

    Each statement sees what other transactions committed before it (PostgreSQL's read
    committed, SQLite's single writer), so of several senders racing on one key exactly one
    gets a row back from the insert or the conditional update.
    """
    values = _values(channel, kind, period_key, payload, now, snapshot_id, late)
    values.update(status=CLAIMED, claimed_at=now, claimed_by=claimer, attempts=1)
    with engine.begin() as c:
        won = _insert_new(c, values) or _claim_existing(c, channel, kind, period_key, now, claimer)
        if won is not None:
            return Claim(won)
        return Claim(None, find_in(c, channel, kind, period_key))


def counts(engine: Engine, kinds: Sequence[str] = (DIGEST, ALERT)) -> dict[str, int]:
    """Deliveries by status (for logs and tests)."""
    with engine.connect() as c:
        rows = c.execute(
            select(deliveries.c.status).where(deliveries.c.kind.in_(list(kinds)))
        ).all()
    found: dict[str, int] = {}
    for row in rows:
        found[row.status] = found.get(row.status, 0) + 1
    return found
