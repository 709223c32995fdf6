"""Slash-command text outside Slack: ``/share qwen`` -> the ``/share`` command run on ``qwen``."""

from __future__ import annotations

from collections.abc import Sequence

from bot.answers.message import Answer
from bot.answers.mrkdwn import echo
from bot.core.errors import UserError
from commands import all_commands
from commands.base import Command, Context


def parse_command(text: str, commands: Sequence[Command]) -> tuple[Command, str]:
    """The command a line names (the leading slash is optional) and the rest of the line."""
    head, _, rest = text.strip().partition(" ")
    name = "/" + head.lstrip("/").lower()
    for command in commands:
        if command.name == name:
            return command, rest.strip()
    known = ", ".join(f"`{command.name}`" for command in commands)
    what = f"no command called {echo(head)}" if head else "no command given"
    raise UserError(f"{what}; the commands are {known}.")


def dispatch(text: str, context: Context, commands: Sequence[Command] | None = None) -> Answer:
    """Run the command ``text`` names, as Slack would with the same text."""
    command, rest = parse_command(text, all_commands() if commands is None else commands)
    return command.run(rest, context)
