"""The root command group and what every verb shares: settings, the store, one-line errors."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from bot.core.errors import UserError
from bot.core.settings import Settings, load_dotenv_file, load_settings
from bot.store.engine import make_engine
from bot.store.migrate import upgrade_safely

F = TypeVar("F", bound=Callable[..., Any])

USAGE_EXIT = 2


class CliError(click.ClickException):
    """A one-line problem with its fix; exit code 2, no traceback."""

    exit_code = USAGE_EXIT

    def show(self, file: Any = None) -> None:
        click.echo(f"hubpulse: {self.format_message()}", err=True)


def user_errors(func: F) -> F:
    """Turn expected errors into one line and exit code 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            raise CliError(exc.message) from None

    return wrapper  # type: ignore[return-value]


def settings() -> Settings:
    load_dotenv_file()
    try:
        return load_settings()
    except UserError as exc:
        raise CliError(exc.message) from None


def open_store(config: Settings) -> Engine:
    """The configured database, migrated to the current schema."""
    try:
        engine = make_engine(config.database_url)
        upgrade_safely(engine)
    except UserError as exc:
        raise CliError(exc.message) from None
    return engine


VERBS = (
    "alerts",
    "ask",
    "backfill",
    "config",
    "db",
    "demo",
    "digest",
    "export",
    "orgs",
    "refresh",
    "scheduler",
    "serve",
    "snapshots",
)
"""Each verb is the module ``bot.cli.<verb>``, imported only when it runs (or for ``--help``),
so that ``hubpulse ask`` does not pay for the Slack app, matplotlib and pandas."""


class VerbGroup(click.Group):
    """Loads verbs lazily; any usage error, in the group or a verb, is one line and exit 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*VERBS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in VERBS and cmd_name not in self.commands:
            importlib.import_module(f"bot.cli.{cmd_name}")
        return self.commands.get(cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _one_line(exc, ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line(exc, ctx) from None


def _one_line(exc: click.UsageError, ctx: click.Context) -> CliError:
    path = (exc.ctx or ctx).command_path
    return CliError(f"{exc.format_message()} (see `{path} --help`)")


@click.group(cls=VerbGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hubpulse")
def main() -> None:
    """hubpulse: how the open-model landscape on the Hugging Face Hub is moving, in Slack."""
