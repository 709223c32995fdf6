"""The root command group and what every verb shares: settings, logging, one-line errors."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from bot.db import make_engine, upgrade
from bot.errors import UserError
from bot.settings import Settings, load_dotenv_file, load_settings

F = TypeVar("F", bound=Callable[..., Any])

USAGE_EXIT = 2
log = logging.getLogger("hubpulse")


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
        upgrade(engine)
    except UserError as exc:
        raise CliError(exc.message) from None
    return engine


def configure_logging(level: str = "INFO") -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hubpulse")
def main() -> None:
    """hubpulse: how the open-model landscape on the Hugging Face Hub is moving, in Slack."""
