"""Slack events that end a workspace's relationship with hubpulse.

``app_uninstalled``, and ``tokens_revoked`` naming the bot's token, forget the workspace
(``bot.channels.forget``).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.channels.forget import forget_workspace
from bot.slack.services import services_of


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
