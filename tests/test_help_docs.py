"""Every slash command has help, answers ``help`` without data, and is in the README; so is
every ``hubpulse`` CLI verb."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from sqlalchemy import Engine

from bot.cli import main
from bot.store.reader import Reader
from commands import all_commands
from commands.base import Command, Context
from commands.dispatch import dispatch

README = Path(__file__).resolve().parent.parent / "README.md"
COMMANDS = all_commands()
VERBS = main.list_commands(click.Context(main))


def _context(engine: Engine) -> Context:
    return Context(Reader(engine), engine, team_id="T1", channel_id="C1", user_id="U1")


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_every_command_has_help_text(command: Command):
    assert command.name.startswith("/")
    assert command.summary.strip()
    assert command.usage.startswith(command.name)
    assert command.examples
    assert all(example.startswith(command.name) for example in command.examples)


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_help_as_the_argument_prints_usage_and_examples_without_data(command, sqlite_engine):
    answer = command.run("help", _context(sqlite_engine))
    assert command.name in answer.text
    for example in command.examples:
        assert example.replace("<", "&lt;").replace(">", "&gt;") in answer.text
    assert answer.blocks


def test_hubpulse_help_lists_every_command(sqlite_engine):
    text = dispatch("/hubpulse help", _context(sqlite_engine)).text
    for command in COMMANDS:
        assert f"*{command.name}* —" in text


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_every_command_is_in_the_readme(command):
    assert f"`{command.name}" in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("verb", VERBS)
def test_every_cli_verb_is_in_the_readme(verb):
    command = main.get_command(click.Context(main), verb)
    assert command is not None
    assert command.help
    assert f"hubpulse {verb}" in README.read_text(encoding="utf-8")
