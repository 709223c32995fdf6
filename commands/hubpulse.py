"""``/hubpulse help``, and the help every command prints for ``<command> help``."""

from __future__ import annotations

from bot.answers.message import Answer
from bot.answers.render import render_message
from commands import all_commands
from commands.args import parse_args, usage_error
from commands.base import Command, Context


def help_answer(command: Command) -> Answer:
    """One command's usage, details and examples."""
    return render_message("help.j2", command=command)


def overview_answer(commands: list[Command]) -> Answer:
    """Every command with its one-line summary."""
    return render_message("hubpulse_help.j2", commands=commands)


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
