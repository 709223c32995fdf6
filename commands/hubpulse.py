"""``/hubpulse help``, and the help every command prints for ``<command> help``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.render import render_message
from commands import all_commands
from commands.args import parse_args, usage_error
from commands.base import Answer, Command, Context

if TYPE_CHECKING:
    from slack_bolt import App


def help_answer(command: Command) -> Answer:
    """One command's usage, details and examples."""
    message = render_message("help.j2", command=command)
    return Answer(message.text, message.blocks)


def overview_answer(commands: list[Command]) -> Answer:
    """Every command with its one-line summary."""
    message = render_message("hubpulse_help.j2", commands=commands)
    return Answer(message.text, message.blocks)


def run(text: str, context: Context) -> Answer:
    args = parse_args(text)
    if args.words and not args.help:
        raise usage_error(COMMAND, "`/hubpulse` only knows `help`.")
    return args.publish(overview_answer(all_commands()))


COMMAND = Command(
    name="/hubpulse",
    summary="List every hubpulse command with what it answers.",
    usage="/hubpulse help",
    examples=("/hubpulse help",),
    run=run,
)


def register(app: App) -> None:
    from bot.slack.commands import register_command

    register_command(app, COMMAND)
