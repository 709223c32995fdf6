"""What every slash command is: a name, help text, and a pure function to an ``Answer``.

Commands never talk to Slack. ``run(args, context)`` reads the cache and returns an ``Answer``
(mrkdwn text, Block Kit blocks, an optional PNG chart); Slack, ``hubpulse ask`` and the tests
all use the same function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from bot.cache import Cache


@dataclass(frozen=True)
class Chart:
    png: bytes
    title: str
    alt_text: str


@dataclass
class Answer:
    """A finished message: ``text`` is the mrkdwn fallback, ``blocks`` the Block Kit body."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    chart: Chart | None = None
    in_channel: bool = False

    def payload(self) -> dict[str, Any]:
        """The Slack message payload (``text`` plus ``blocks``)."""
        body: dict[str, Any] = {"text": self.text}
        if self.blocks:
            body["blocks"] = self.blocks
        return body


@dataclass
class Context:
    """Who asked and where, plus the cache. Slack ids are empty outside Slack."""

    cache: Cache
    engine: Engine
    team_id: str = ""
    enterprise_id: str = ""
    channel_id: str = ""
    user_id: str = ""
    user_tz: str = ""
    want_chart: bool = True
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Command:
    """A slash command: ``name`` like ``/share``; ``help`` is shown by ``/share help``."""

    name: str
    summary: str
    usage: str
    examples: tuple[str, ...]
    run: Callable[[str, Context], Answer]
    details: str = ""
