"""Forgetting a workspace: what hubpulse deletes when an app is uninstalled or its token revoked.

Its installation, subscriptions and digests go, and its undelivered messages are given up, in
one transaction. Slack retries events, so forgetting is idempotent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine, delete, update

from bot.channels import ledger
from bot.store.channel_tables import deliveries, digests, subscriptions
from bot.store.slack_tables import bots, installations

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
                deliveries.c.status.in_([ledger.PENDING, ledger.CLAIMED]),
            )
            .values(status=ledger.FAILED, last_error="the app was uninstalled")
        )
        installs = c.execute(delete(installations).where(installations.c.team_id == team_id))
        c.execute(delete(bots).where(bots.c.team_id == team_id))
    forgotten = Forgotten(subs.rowcount, digs.rowcount, given_up.rowcount, installs.rowcount)
    log.info("forgot workspace %s: %s", team_id, forgotten)
    return forgotten
