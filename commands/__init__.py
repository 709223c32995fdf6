"""Every slash command, registered in one place.

Adding a command is adding ``commands/<name>.py`` (exposing ``COMMAND`` and ``register(app)``)
and its name here.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from commands.base import Command

if TYPE_CHECKING:
    from slack_bolt import App

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


def _modules() -> list[ModuleType]:
    return [importlib.import_module(f"commands.{name}") for name in COMMAND_MODULES]


def all_commands() -> list[Command]:
    """Every command, in the order they are listed in help."""
    return [module.COMMAND for module in _modules()]


def register_all(app: App) -> None:
    """Wire every command into the Bolt app."""
    for module in _modules():
        module.register(app)
