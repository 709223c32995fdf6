"""The channel a subscription command acts on: the workspace and channel it was typed in."""

from __future__ import annotations

from bot.channels.channel import Channel
from bot.core.errors import UserError
from commands.base import Context


def channel_of(context: Context) -> Channel:
    """The asking channel; subscriptions and digests exist only inside Slack."""
    if not context.team_id or not context.channel_id:
        raise UserError(
            "Subscriptions and digests belong to a Slack channel: run this command in Slack."
        )
    return Channel(context.team_id, context.channel_id, context.enterprise_id)
