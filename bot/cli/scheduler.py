"""``hubpulse scheduler``: run the scheduled jobs (refresh, alerts, digests) without Slack
commands, for deployments that run the Slack app with ``hubpulse serve --no-scheduler``."""

from __future__ import annotations

import logging

import click

from bot.cli.base import main, open_store, settings, user_errors
from bot.cli.signals import StopSignals
from bot.core.logs import configure_logging
from bot.jobs.scheduler import start_scheduler

log = logging.getLogger(__name__)


@main.command("scheduler")
@user_errors
def scheduler_command() -> None:
    """Run the scheduler until stopped (Ctrl-C or SIGTERM).

    On PostgreSQL several may run: one holds the lock and runs the jobs, the others stand by
    and take over if it stops. On SQLite run only one (and `serve --no-scheduler`).
    """
    config = settings()
    configure_logging(config.log_format, config.log_level, secrets=config.secrets)
    engine = open_store(config)
    runner = start_scheduler(config, engine)

    stop = StopSignals()
    state = "running the jobs" if runner.leading else "standing by (another process runs them)"
    click.echo(f"hubpulse scheduler started: {state}.")
    stop.wait()
    log.info("hubpulse scheduler stopping")
    runner.stop()
