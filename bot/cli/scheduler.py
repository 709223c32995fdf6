"""``hubpulse scheduler``: run the scheduled jobs (refresh, alerts, digests) without Slack
commands, for deployments that run the Slack app with ``hubpulse serve --no-scheduler``."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import click

from bot.cli.base import main, open_store, settings, user_errors
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

    def stop(signum: int, _frame: FrameType | None) -> None:
        # Only a flag here: the main thread stops the scheduler once ``wait()`` returns, so a
        # second signal arriving during the shutdown cannot deadlock it.
        runner.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    state = "running the jobs" if runner.leading else "standing by (another process runs them)"
    click.echo(f"hubpulse scheduler started: {state}.")
    runner.wait()
    log.info("hubpulse scheduler stopping")
    runner.stop()
