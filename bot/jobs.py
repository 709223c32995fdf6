"""The scheduler's job functions: module-level, with plain arguments, so the job store can
pickle a reference to them. Each uses the process's installed ``Runtime``."""

from __future__ import annotations

import logging

from bot import digest_schedule, dispatch, runtime
from bot.errors import RefreshError
from bot.subscriptions import Channel

log = logging.getLogger(__name__)


def refresh_job() -> None:
    """Take a snapshot of the Hub, then send the alerts it brings (only if it succeeded)."""
    current = runtime.current()
    if current.refresh is None:
        log.warning("refresh job: no refresh configured in this process")
        return
    try:
        current.refresh()
    except RefreshError as exc:
        log.error("scheduled refresh failed: %s; no alerts this time", exc)
        return
    alerts_job()


def alerts_job() -> None:
    report = dispatch.send_alerts(runtime.current())
    log.info(
        "alerts: %d new releases, %d messages planned, %d sent, %d to retry, %d failed",
        report.new_releases,
        report.planned,
        report.count("sent"),
        report.count("retry"),
        report.count("failed"),
    )


def digest_job(team_id: str, channel_id: str) -> None:
    """One channel's weekly digest (the job of its cron trigger)."""
    current = runtime.current()
    config = digest_schedule.get(current.engine, Channel(team_id, channel_id))
    if config is None or not config.enabled:
        log.info("digest job for %s/%s: the digest is off", team_id, channel_id)
        return
    report = dispatch.send_digest(current, config, scheduled=True)
    log.info("digest %s", report.line())


def retry_job() -> None:
    for attempt in dispatch.retry_due(runtime.current()):
        log.info("retried %s: %s", attempt.key, attempt.outcome)
