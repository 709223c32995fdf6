"""``/hubpulse <command> ...``: every command under one namespace, and ``/hubpulse help``.

``/hubpulse share qwen`` is ``/share qwen``: a workspace where another app owns ``/share``
still reaches every hubpulse command through ``/hubpulse`` alone (GitHub's Slack app works the
same way, ``/github subscribe ...``). The verbs are the registry's command names, so a new
command is a new verb with nothing else to change. This module also holds the help every
command prints for ``<command> help``.
"""

from __future__ import annotations

from bot.answers.message import Answer
from bot.answers.mrkdwn import echo
from bot.answers.render import render_message
from bot.core.errors import UserError
from commands import all_commands
from commands.args import HELP_WORDS, parse_args, usage_error
from commands.base import Command, Context


def help_answer(command: Command) -> Answer:
    """One command's usage, details and examples."""
    return render_message("help.j2", command=command, namespace=COMMAND)


def overview_answer(commands: list[Command]) -> Answer:
    """Every command with its one-line summary."""
    return render_message("hubpulse_help.j2", commands=commands, namespace=COMMAND)


def verbs() -> dict[str, Command]:
    """``share`` -> ``/share``: every registered command but this one, by its verb."""
    return {c.verb: c for c in all_commands() if c.name != COMMAND.name}


def unknown_verb(word: str, known: dict[str, Command]) -> UserError:
    listed = ", ".join(f"`{verb}`" for verb in known)
    return usage_error(
        COMMAND, f"{echo(word)} is not a hubpulse command; the commands are {listed}."
    )


def help_for(words: tuple[str, ...], known: dict[str, Command]) -> Answer:
    """``help``: every command; ``help digest``: that one."""
    if len(words) > 1:
        raise usage_error(COMMAND, "`help` takes at most one command.")
    if not words:
        return overview_answer(all_commands())
    command = known.get(words[0].lower().removeprefix("/"))
    if command is None:
        raise unknown_verb(words[0], known)
    return help_answer(command)


def run(text: str, context: Context) -> Answer:
    args = parse_args(text)
    known = verbs()
    if not args.words or args.words[0].lower() in HELP_WORDS:
        return args.publish(help_for(args.words[1:], known))
    verb, *rest = text.split(maxsplit=1)
    command = known.get(verb.lower().removeprefix("/"))
    if command is None:
        raise unknown_verb(verb, known)
    return command.run(rest[0] if rest else "", context)


COMMAND = Command(
    name="/hubpulse",
    summary="Run any hubpulse command under one name (/hubpulse share qwen), or list them all.",
    usage="/hubpulse <command> [arguments] | help [command]",
    examples=("/hubpulse share qwen", "/hubpulse subscribe qwen releases share", "/hubpulse help"),
    run=run,
    details=(
        "`/hubpulse <command> ...` runs any hubpulse command: `/hubpulse share qwen` is "
        "`/share qwen`, useful where another app owns `/share`. `/hubpulse help` lists every "
        "command; `/hubpulse help digest` shows one."
    ),
)
