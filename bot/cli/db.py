"""``hubpulse db upgrade`` and ``hubpulse db current``: the database schema."""

from __future__ import annotations

import click

from bot.cli.base import main, settings, user_errors
from bot.core.settings import redact_url
from bot.store.engine import head_revision, make_engine
from bot.store.migrate import check_not_newer, upgrade_safely


@main.group("db")
def db_group() -> None:
    """The database schema: migrate it, or show its revision."""


@db_group.command("upgrade")
@user_errors
def upgrade_command() -> None:
    """Migrate the database to this hubpulse's schema, keeping every row.

    `hubpulse serve` and `hubpulse scheduler` do this at start; several processes may run it at
    once (on PostgreSQL they take turns under an advisory lock).
    """
    config = settings()
    engine = make_engine(config.database_url)
    try:
        before, after = upgrade_safely(engine)
    finally:
        engine.dispose()
    where = redact_url(config.database_url)
    if before == after:
        click.echo(f"{where}: already at revision {after}, nothing to do.")
    else:
        click.echo(f"{where}: upgraded from {before or 'an empty database'} to revision {after}.")


@db_group.command("current")
@user_errors
def current_command() -> None:
    """Show the database's schema revision and whether it needs `hubpulse db upgrade`."""
    config = settings()
    engine = make_engine(config.database_url)
    try:
        current, head = check_not_newer(engine), head_revision(engine)
    finally:
        engine.dispose()
    if current == head:
        click.echo(f"{current} (head): up to date.")
    else:
        click.echo(
            f"{current or 'empty'}; this hubpulse's head is {head}: run `hubpulse db upgrade`."
        )
