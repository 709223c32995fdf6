"""What every slash command is: a name, help text, and a pure function to an ``Answer``.

Commands never talk to Slack. ``run(text, context)`` reads the store and returns an ``Answer``
(mrkdwn text, Block Kit blocks, an optional PNG chart); Slack, ``hubpulse ask`` and the tests
all use the same function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from bot.answers.message import Answer
from bot.store.reader import Reader


@dataclass
class Context:
    """Who asked and where, with the store. Slack ids are empty outside Slack."""

    reader: Reader
    engine: Engine
    team_id: str = ""
    enterprise_id: str = ""
    channel_id: str = ""
    user_id: str = ""
    user_tz: str = ""
    """The asker's IANA timezone as Slack gives it ("" when Slack does not say)."""
    default_timezone: str = ""
    """The deployment's timezone (``HUBPULSE_TIMEZONE``), for people Slack gives none."""
    want_chart: bool = True


@dataclass(frozen=True)
class Command:
    """A slash command: ``name`` like ``/share``; ``help`` is shown by ``/share help``."""

    name: str
    summary: str
    usage: str
    examples: tuple[str, ...]
    run: Callable[[str, Context], Answer]
    details: str = ""

    @property
    def verb(self) -> str:
        """The name without its slash: ``/share`` is ``/hubpulse share``."""
        return self.name.removeprefix("/")
