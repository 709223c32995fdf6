"""Delivery failures recorded against a channel's subscriptions and digest.

Slack answers some posts with an error that retrying will not fix (the bot was removed from
the channel, the channel was archived, the workspace's token was revoked). Each such failure is
counted on every subscription and on the digest of that channel; after ``MAX_FAILURES`` in a
row they are paused, with the reason shown by ``/digest status`` and ``/subscriptions``. A
successful post resets the count. Other channels are not affected.

Both run in the caller's transaction: ``bot.channels.outcome`` records a delivery's outcome
and this bookkeeping together.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Table, Update, update

from bot.channels.channel import Channel
from bot.store.channel_tables import digests, subscriptions

MAX_FAILURES = 3

CHANNEL_ERRORS = {
    "not_in_channel": "the bot is not a member of this channel (invite it with `/invite`)",
    "channel_not_found": "Slack cannot find this channel for the bot (deleted, or private "
    "without the bot in it)",
    "is_archived": "the channel is archived",
}
WORKSPACE_ERRORS = {
    "account_inactive": "the bot's Slack account is deactivated",
    "invalid_auth": "Slack rejects the bot's token (reinstall the app)",
    "token_revoked": "the bot's token was revoked (reinstall the app)",
    "not_authed": "no token was sent (reinstall the app)",
    "not_installed": "the app is not installed in this workspace any more",
}
PERMANENT_ERRORS = {**CHANNEL_ERRORS, **WORKSPACE_ERRORS}


def explain(error: str) -> str:
    return PERMANENT_ERRORS.get(error, error)


def _channel_rows(table: Table, channel: Channel) -> Update:
    return update(table).where(
        table.c.team_id == channel.team_id, table.c.channel_id == channel.channel_id
    )


def record_failure(connection: Connection, channel: Channel, error: str, now: datetime) -> bool:
    """Count a permanent failure; True when it paused the channel's deliveries (caller's
    transaction)."""
    reason = (
        f"paused after {MAX_FAILURES} failed deliveries in a row: {explain(error)} "
        f"(`{error}`). Fix it, then run `/digest on` or `/subscribe` again to resume."
    )
    paused = False
    for table in (subscriptions, digests):
        connection.execute(
            _channel_rows(table, channel).values(
                failures=table.c.failures + 1, last_error=error, last_error_at=now
            )
        )
        result = connection.execute(
            _channel_rows(table, channel)
            .where(table.c.failures >= MAX_FAILURES, table.c.paused_reason.is_(None))
            .values(paused_reason=reason, paused_at=now)
        )
        paused = paused or bool(result.rowcount)
    return paused


def record_success(connection: Connection, channel: Channel) -> None:
    """A post went through: the channel's failure count starts again (caller's transaction)."""
    for table in (subscriptions, digests):
        connection.execute(
            _channel_rows(table, channel).where(table.c.failures > 0).values(failures=0)
        )
