"""A Slack channel as hubpulse keys what it owns: subscriptions, a digest, deliveries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    """A channel of a workspace: the key of everything a channel owns."""

    team_id: str
    channel_id: str
    enterprise_id: str = ""
