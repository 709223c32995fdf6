"""Every slash command, listed in one place.

Adding a command is adding ``commands/<name>.py`` (a module exposing ``COMMAND``, a pure
function from its text and the read side of the store to an ``Answer``), its template, and its
name here. Commands register nowhere: the Slack adapter (``bot.slack``) wires every command
this module lists, and ``hubpulse ask`` runs them by name.
"""

from __future__ import annotations

import importlib

from commands.base import Command

COMMAND_MODULES = (
    "share",
    "lineage",
    "releases",
    "hubpulse",
    "subscribe",
    "unsubscribe",
    "subscriptions",
    "digest",
)


def all_commands() -> list[Command]:
    """Every command, in the order they are listed in help."""
    return [importlib.import_module(f"commands.{name}").COMMAND for name in COMMAND_MODULES]
