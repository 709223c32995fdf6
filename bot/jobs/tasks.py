"""The scheduler's job functions: module-level, with plain arguments, so the job store can
pickle a reference to them. The scheduler's executor (``bot.jobs.scheduler``) passes each the
process's ``Runtime`` as ``runtime=``: it is never stored with the job. (The keyword has a
default only because APScheduler checks a job's arguments when the job is added.)"""

from __future__ import annotations

import logging

from bot.channels import digest_schedule
from bot.channels.channel import Channel
from bot.core.errors import RefreshError
from bot.ingest.archive import ArchiveError
from bot.jobs import send as dispatch
from bot.jobs.runtime import Runtime

log = logging.getLogger(__name__)


def _given(runtime: Runtime | None) -> Runtime:
    if runtime is None:
        raise TypeError("a job runs with runtime=...: bot.jobs.scheduler's executor passes it")
    return runtime


def refresh_job(*, runtime: Runtime | None = None) -> None:
    """Take a snapshot of the Hub, then send the alerts it brings (only if it succeeded)."""
    current = _given(runtime)
    if current.refresh is None:
        log.warning("refresh job: no refresh configured in this process")
        return
    try:
        current.refresh()
    except RefreshError as exc:
        log.error("scheduled refresh failed: %s; no alerts this time", exc)
        return
    alerts_job(runtime=current)


def archive_job(*, runtime: Runtime | None = None) -> None:
    """Import the archive's weeks not imported yet (all of them on an empty history), then
    send the alerts they bring (crossovers). The live refresh is not affected either way."""
    current = _given(runtime)
    if current.import_archive is None:
        log.warning("archive job: no archive configured in this process")
        return
    try:
        report = current.import_archive()
    except ArchiveError as exc:
        log.error("archive import failed: %s; answers use the weeks already imported", exc)
        return
    if report.failed:
        log.error("archive import: %d weeks failed, retried next time", len(report.failed))
    if report.imported:
        log.info("archive import: %d weeks imported", len(report.imported))
        alerts_job(runtime=current)


def alerts_job(*, runtime: Runtime | None = None) -> None:
    report = dispatch.send_alerts(_given(runtime))
    log.info(
        "alerts: %d new releases, %d messages planned, %d sent, %d to retry, %d failed",
        report.new_releases,
        report.planned,
        report.count("sent"),
        report.count("retry"),
        report.count("failed"),
    )


def digest_job(team_id: str, channel_id: str, *, runtime: Runtime | None = None) -> None:
    """One channel's weekly digest (the job of its cron trigger)."""
    current = _given(runtime)
    config = digest_schedule.get(current.engine, Channel(team_id, channel_id))
    if config is None or not config.enabled:
        log.info("digest job for %s/%s: the digest is off", team_id, channel_id)
        return
    report = dispatch.send_digest(current, config, scheduled=True)
    log.info("digest %s", report.line())


def retry_job(*, runtime: Runtime | None = None) -> None:
    for attempt in dispatch.retry_due(_given(runtime)):
        log.info("retried %s: %s", attempt.key, attempt.outcome)
