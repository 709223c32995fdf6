"""Sending digests and alerts: what the scheduler's jobs and the operator's CLI both call.

A digest is built here (from the content shared by every channel, ``bot.jobs.digest_payloads``)
and handed to the sender, which claims, posts and records it (``bot.delivery.sender``). Alerts
are planned and written as pending deliveries in one transaction (``bot.channels.alerts``),
then the sender claims them in batches, posts each and records each. Both go through the
delivery ledger, so the scheduler, a restarted scheduler, a second process and
``hubpulse digest send`` together post each digest (per channel and period), each
refresh's alerts (per channel and snapshot) and each crossover alert (per channel and
crossover, ``bot.channels.crossover_alerts``) once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.answers.mrkdwn import escape
from bot.channels import alerts, crossover_alerts, digest_schedule, subscriptions
from bot.channels import ledger as delivery
from bot.channels.channel import Channel
from bot.channels.digest_schedule import LATE_AFTER, DigestConfig
from bot.core.errors import UserError
from bot.delivery.sender import BUSY, DONE, Attempt, Sender
from bot.jobs.runtime import Runtime

SENT_ALREADY, PAUSED, EMPTY, MISSED = "already sent", "paused", "empty cache", "missed"


@dataclass(frozen=True)
class DigestReport:
    channel: Channel
    period: str
    outcome: str
    detail: str = ""
    late: bool = False

    def line(self) -> str:
        where = f"{self.channel.team_id}/{self.channel.channel_id} ({self.period})"
        late = ", late" if self.late else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{where}: {self.outcome}{late}{detail}"


@dataclass(frozen=True)
class AlertReport:
    planned: int
    new_releases: int
    attempts: tuple[Attempt, ...]

    def count(self, outcome: str) -> int:
        return sum(1 for a in self.attempts if a.outcome == outcome)


def _due_text(config: DigestConfig, slot_local: datetime) -> str:
    return f"{slot_local:%A} {slot_local.day} {slot_local:%b %H:%M} ({config.timezone})"


def send_digest(
    runtime: Runtime,
    config: DigestConfig,
    *,
    scheduled: bool,
    sender: Sender | None = None,
) -> DigestReport:
    """Send a channel's digest for the current period, unless it was sent already.

    The period is the latest scheduled run at or before now; a digest sent more than
    ``LATE_AFTER`` after that time says it is late. A scheduled run missed by more than the
    grace period (``digest_late_hours``) is not sent: the next week's digest covers it.
    """
    now = runtime.clock.now()
    channel = config.channel
    slot = config.slot_before(now)
    period = config.period(slot)
    late = now - slot > LATE_AFTER
    if config.paused_reason:
        return DigestReport(channel, period, PAUSED, config.paused_reason)
    grace = timedelta(hours=runtime.settings.digest_late_hours)
    if scheduled and now - slot > grace:
        result = f"missed: hubpulse was not running within {grace} of {slot:%Y-%m-%d %H:%M} UTC"
        with runtime.engine.begin() as c:
            digest_schedule.record_run(c, channel, now, result)
        return DigestReport(channel, period, MISSED, result)
    sender = sender or runtime.sender()
    snapshot = runtime.reader.latest_or_none()
    if snapshot is None:
        with runtime.engine.begin() as c:
            digest_schedule.record_run(c, channel, now, "skipped: the cache is empty")
        return DigestReport(channel, period, EMPTY)
    late_due = _due_text(config, slot.astimezone(config.zone)) if late else None
    body = runtime.digests.payload(snapshot, config.last_snapshot_id, late_due)
    attempt = sender.send_new(
        channel, delivery.DIGEST, period, body, snapshot_id=snapshot.id, late=late
    )
    outcome = SENT_ALREADY if attempt.outcome == DONE else attempt.outcome
    return DigestReport(channel, period, outcome, attempt.error or "", attempt.late)


def send_digests(
    runtime: Runtime, *, team_id: str | None = None, channel_id: str | None = None
) -> list[DigestReport]:
    """``hubpulse digest send``: this period's digest for every (or the given) channel."""
    configs = [
        config
        for config in digest_schedule.scheduled(runtime.engine)
        if (team_id is None or config.channel.team_id == team_id)
        and (channel_id is None or config.channel.channel_id == channel_id)
    ]
    if not configs and (team_id or channel_id):
        where = " ".join(
            f"{k} {escape(v)}" for k, v in (("team", team_id), ("channel", channel_id)) if v
        )
        raise UserError(f"no digest is on for {where} (run `/digest on` in the channel).")
    sender = runtime.sender()
    return [
        send_digest(runtime, config, scheduled=False, sender=sender)
        for config in sorted(configs, key=lambda c: (c.channel.team_id, c.channel.channel_id))
    ]


def send_alerts(runtime: Runtime) -> AlertReport:
    """Plan the alerts of snapshots not planned yet and of the archived weeks' crossovers not
    alerted yet, then post every pending delivery."""
    subs = subscriptions.active(runtime.engine)
    planned = alerts.plan(runtime.reader, runtime.engine, subs, runtime.settings.share_alert_pp)
    added = alerts.enqueue(runtime.engine, planned, runtime.reader.registry, runtime.clock.now())
    now = runtime.clock.now()
    crossovers = crossover_alerts.plan(runtime.reader, runtime.engine, subs, now)
    added += crossover_alerts.enqueue(runtime.engine, crossovers, now)
    attempts = runtime.sender().send_due()
    return AlertReport(added, planned.new_releases, tuple(attempts))


def retry_due(runtime: Runtime) -> list[Attempt]:
    """Post what is pending: deliveries Slack could not take earlier, abandoned claims."""
    return [a for a in runtime.sender().send_due() if a.outcome != BUSY]
