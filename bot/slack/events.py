"""Slack events that end a workspace's relationship with hubpulse.

``app_uninstalled``, and ``tokens_revoked`` naming the bot's token, delete that workspace's
installation, subscriptions and digests, and give up its undelivered messages. Slack retries
events, so forgetting is idempotent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext
from sqlalchemy import Engine, delete, update

from bot import delivery
from bot.slack.services import services_of
from bot.slack_tables import bots, installations
from bot.subscription_tables import deliveries, digests, subscriptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Forgotten:
    subscriptions: int
    digests: int
    deliveries: int
    installations: int


def forget_workspace(engine: Engine, team_id: str) -> Forgotten:
    """Delete everything hubpulse keeps for a workspace, in one transaction."""
    with engine.begin() as c:
        subs = c.execute(delete(subscriptions).where(subscriptions.c.team_id == team_id))
        digs = c.execute(delete(digests).where(digests.c.team_id == team_id))
        given_up = c.execute(
            update(deliveries)
            .where(
                deliveries.c.team_id == team_id,
                deliveries.c.status.in_([delivery.PENDING, delivery.CLAIMED]),
            )
            .values(status=delivery.FAILED, last_error="the app was uninstalled")
        )
        installs = c.execute(delete(installations).where(installations.c.team_id == team_id))
        c.execute(delete(bots).where(bots.c.team_id == team_id))
    forgotten = Forgotten(subs.rowcount, digs.rowcount, given_up.rowcount, installs.rowcount)
    log.info("forgot workspace %s: %s", team_id, forgotten)
    return forgotten


def register_events(app: App) -> None:
    """Listen for uninstalls and revoked bot tokens."""
    engine = services_of(app).engine

    def uninstalled(context: BoltContext) -> None:
        if context.team_id:
            forget_workspace(engine, context.team_id)

    def revoked(event: dict[str, Any], context: BoltContext) -> None:
        bot_users = (event.get("tokens") or {}).get("bot") or []
        if bot_users and context.team_id:
            forget_workspace(engine, context.team_id)

    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(revoked)
