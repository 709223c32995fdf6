"""``hubpulse digest send``: this period's digest now, through the scheduler's ledger."""

from __future__ import annotations

import click

from bot.cli.base import CliError, main, open_store, settings, user_errors
from bot.core.logs import configure_logging
from bot.delivery.sender import FAILED, RETRY, SENT
from bot.jobs import runtime
from bot.jobs import send as dispatch


@main.group("digest")
def digest_group() -> None:
    """The weekly digest of subscribed channels."""


@digest_group.command("send")
@click.option("--team", "team_id", help="Only this workspace (team id, T...).")
@click.option("--channel", "channel_id", help="Only this channel (channel id, C...).")
@user_errors
def send_command(team_id: str | None, channel_id: str | None) -> None:
    """Send this period's digest to every channel that has one on (or the given ones).

    It goes through the same ledger as the scheduler: a channel whose digest for this
    period was sent already gets nothing, so running it twice in a week posts once.
    """
    config = settings()
    configure_logging(config.log_format, config.log_level, secrets=config.secrets)
    engine = open_store(config)
    reports = dispatch.send_digests(
        runtime.from_settings(config, engine), team_id=team_id, channel_id=channel_id
    )
    if not reports:
        click.echo("No channel has the digest on (`/digest on` in a channel turns it on).")
        return
    for report in reports:
        click.echo(report.line())
    sent = sum(r.outcome == SENT for r in reports)
    already = sum(r.outcome == dispatch.SENT_ALREADY for r in reports)
    click.echo(
        f"{sent} sent, {already} already sent this period, {len(reports) - sent - already} other."
    )
    if sent == 0 and already == len(reports):
        click.echo("Nothing posted: every digest of this period was sent already.")
    if any(r.outcome in (FAILED, RETRY) for r in reports):
        raise CliError("some digests could not be delivered (see above); pending ones are retried")
