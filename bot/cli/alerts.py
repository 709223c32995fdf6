"""``hubpulse alerts send``: plan and post pending release and share alerts now."""

from __future__ import annotations

import click

from bot.cli.base import CliError, main, open_store, settings, user_errors
from bot.core.logs import configure_logging
from bot.delivery.sender import FAILED, RETRY, SENT
from bot.jobs import runtime
from bot.jobs import send as dispatch


@main.group("alerts")
def alerts_group() -> None:
    """Release and share alerts of subscribed channels."""


@alerts_group.command("send")
@user_errors
def send_command() -> None:
    """Plan the alerts of snapshots not planned yet and post every pending delivery.

    It goes through the same ledger as the scheduler: an alert already sent is never posted
    again, so running it twice posts once.
    """
    config = settings()
    configure_logging(config.log_format, config.log_level, secrets=config.secrets)
    engine = open_store(config)
    report = dispatch.send_alerts(runtime.from_settings(config, engine))
    sent, retry, failed = (report.count(o) for o in (SENT, RETRY, FAILED))
    click.echo(
        f"{report.new_releases} new releases; {report.planned} alert messages planned; "
        f"{sent} sent, {retry} left to retry, {failed} failed."
    )
    if not report.attempts:
        click.echo("Nothing to post: no pending alerts.")
    if retry or failed:
        raise CliError("some alerts could not be delivered (see the log); pending ones are retried")
