"""``hubpulse config check``: the effective configuration, secrets masked, problems listed."""

from __future__ import annotations

import os

import click

from bot.cli.base import USAGE_EXIT, main
from bot.core.errors import ConfigError
from bot.core.settings import (
    SETTINGS,
    load_dotenv_file,
    load_settings,
    masked,
    slack_missing,
    slack_mode,
)
from bot.ingest.org_source import configured_registry
from bot.store.engine import current_revision, database_problem, head_revision, make_engine

SLACK_MODES = {
    "oauth": "HTTP, multi-workspace OAuth",
    "socket": "Socket Mode, one workspace",
    "http": "HTTP, one workspace",
    None: "not configured (hubpulse serve will refuse to start; see below)",
}


@main.group("config")
def config_group() -> None:
    """Check and show the configuration (environment variables and .env)."""


@config_group.command("check")
def check_command() -> None:
    """Print the effective configuration with secrets masked, and check it.

    Every setting is validated, the database is opened and the org registry file (if any) is
    read; each problem is printed on its own line and the exit code is 2.
    """
    before = {s.env for s in SETTINGS if os.environ.get(s.env, "").strip()}
    load_dotenv_file()
    try:
        config = load_settings(database_check=database_problem)
        registry = configured_registry(config.orgs_file)
    except ConfigError as exc:
        for line in exc.message.splitlines():
            click.echo(f"hubpulse: {line}", err=True)
        raise click.exceptions.Exit(USAGE_EXIT) from None
    shown = masked(config)
    width = max(len(s.env) for s in SETTINGS)
    for setting in SETTINGS:
        if setting.env in before:
            origin = "environment"
        elif os.environ.get(setting.env, "").strip():
            origin = ".env"
        else:
            origin = "default"
        click.echo(f"{setting.env:<{width}}  {shown[setting.field]}  ({origin})")
    click.echo(f"Slack mode: {SLACK_MODES[slack_mode(config)]}")
    with_file = " with HUBPULSE_ORGS_FILE" if config.orgs_file else ""
    click.echo(f"Org registry: {len(registry)} orgs{with_file} (stored imports come on top)")
    engine = make_engine(config.database_url)
    try:
        current, head = current_revision(engine), head_revision(engine)
    finally:
        engine.dispose()
    if current == head:
        click.echo(f"Database schema: {current} (up to date)")
    else:
        click.echo(
            f"Database schema: {current or 'empty'}; this hubpulse's is {head} "
            "(`hubpulse db upgrade`, or serve and scheduler, will migrate it)"
        )
    missing = slack_missing(config)
    if missing is None:
        click.echo("Configuration OK.")
    else:
        click.echo(f"Configuration OK for the CLI and the scheduler; hubpulse serve: {missing}.")
