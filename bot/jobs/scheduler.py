"""The persistent scheduler: APScheduler 3.11 with its SQLAlchemy job store in our database.

Jobs, each with a stable id:

* ``refresh``: a Hub refresh every ``HUBPULSE_REFRESH_HOURS`` hours, then the alerts it brings
  (at once when the store holds no snapshot, a stale one, or only the bundled demo);
* ``digest:<team>:<channel>``: one per enabled digest, a cron trigger on the channel's weekday
  name (never a number: APScheduler 3 counts Monday as 0), time and timezone; a run missed by
  less than ``HUBPULSE_DIGEST_LATE_HOURS`` (the service was down) still runs once (coalesced),
  and the digest says it is late;
* ``archive``: every ``ARCHIVE_HOURS`` hours, the weeks of the whole-Hub archive not imported
  yet (at once on an empty history: a backfill in the background), then the alerts they bring;
* ``deliveries``: every few minutes, retry what Slack could not take and abandoned claims;
* ``digest-sync``: every minute, match the digest jobs to the ``digests`` table, which
  ``/digest on`` and ``/digest off`` write from whichever process answered them.

Existing jobs are replaced only when their schedule changed, so a restart never moves a due
run into the future. Only the process holding the leader lock (``bot.jobs.leader``) runs a
scheduler; the others stand by and take over when it stops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, JobEvent, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from bot.channels import digest_schedule
from bot.channels.channel import Channel
from bot.channels.digest_schedule import DigestConfig
from bot.core.settings import Settings
from bot.jobs import tasks as jobs
from bot.jobs.leader import LeaderLock, leader_lock
from bot.jobs.runtime import Runtime, from_settings
from bot.store.channel_tables import scheduler_jobs
from bot.store.engine import make_engine
from bot.store.snapshots import is_demo_source

log = logging.getLogger(__name__)

REFRESH_JOB, RETRY_JOB, SYNC_JOB, ARCHIVE_JOB = "refresh", "deliveries", "digest-sync", "archive"
LOCAL_STORE = "local"
"""Jobs of this process alone, never stored: the digest sync calls this process's runner."""
DIGEST_PREFIX = "digest:"
RETRY_MINUTES = 5
ARCHIVE_HOURS = 12
"""How often the weekly archive is asked for weeks not imported yet."""
SYNC_SECONDS = 60
WORKERS = 4


def digest_job_id(channel: Channel) -> str:
    return f"{DIGEST_PREFIX}{channel.team_id}:{channel.channel_id}"


def digest_job_name(config: DigestConfig, late_hours: float) -> str:
    """The job's name holds its schedule: a job is replaced only when this changes."""
    where = f"{config.channel.team_id}/{config.channel.channel_id}"
    return f"digest {where} {config.spec}, late up to {late_hours:g} h"


class _WithRuntime:
    """A stored job as the executor runs it: its function gets ``runtime=``."""

    def __init__(self, job: Job, rt: Runtime) -> None:
        self._job = job
        self.func = partial(job.func, runtime=rt)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


class RuntimeExecutor(ThreadPoolExecutor):
    """Runs each job with the process's ``Runtime`` (``runtime=``): the job store keeps only a
    reference to the function and its plain arguments."""

    def __init__(self, rt: Runtime, max_workers: int = WORKERS) -> None:
        super().__init__(max_workers)
        self.runtime = rt

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        super()._do_submit_job(_WithRuntime(job, self.runtime), run_times)


def build_scheduler(rt: Runtime) -> BackgroundScheduler:
    """A scheduler on the project's database, running jobs against ``rt``. The job store gets
    an engine of its own (it disposes of its engine when the scheduler shuts down); jobs of
    this process alone (the digest sync) live in memory."""
    store_engine = make_engine(rt.engine.url.render_as_string(hide_password=False))
    return BackgroundScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(engine=store_engine, tablename=scheduler_jobs.name),
            LOCAL_STORE: MemoryJobStore(),
        },
        executors={"default": RuntimeExecutor(rt), LOCAL_STORE: ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone=UTC,
    )


def _keep(scheduler: BackgroundScheduler, job_id: str, name: str) -> bool:
    job = scheduler.get_job(job_id)
    return job is not None and job.name == name


def ensure_jobs(
    scheduler: BackgroundScheduler, rt: Runtime, sync: Callable[[], object] | None = None
) -> None:
    """Add the fixed jobs unless they exist with the same settings."""
    hours = rt.settings.refresh_hours
    name = f"refresh every {hours} h, then alerts"
    latest = rt.reader.latest_or_none()
    now = rt.clock.now()
    # Only the bundled demo (``make demo``) in the store: real data at once, not hours later.
    stale = (
        latest is None
        or is_demo_source(latest.source)
        or now - latest.taken_at >= timedelta(hours=hours)
    )
    if not _keep(scheduler, REFRESH_JOB, name):
        first = now if stale or latest is None else latest.taken_at + timedelta(hours=hours)
        scheduler.add_job(
            jobs.refresh_job,
            IntervalTrigger(hours=hours, timezone=UTC),
            id=REFRESH_JOB,
            name=name,
            replace_existing=True,
            next_run_time=first,
            misfire_grace_time=hours * 3600,
        )
    elif stale:  # back after a long stop, or demo data only: refresh now
        scheduler.modify_job(REFRESH_JOB, next_run_time=now)
    archive_name = f"import new archive weeks every {ARCHIVE_HOURS} h, then alerts"
    empty_history = not rt.reader.weeks.weeks()
    if not _keep(scheduler, ARCHIVE_JOB, archive_name):
        scheduler.add_job(
            jobs.archive_job,
            IntervalTrigger(hours=ARCHIVE_HOURS, timezone=UTC),
            id=ARCHIVE_JOB,
            name=archive_name,
            replace_existing=True,
            next_run_time=now if empty_history else now + timedelta(hours=ARCHIVE_HOURS),
            misfire_grace_time=ARCHIVE_HOURS * 3600,
        )
    elif empty_history:  # a backfill in the background on an empty history, at once
        scheduler.modify_job(ARCHIVE_JOB, next_run_time=now)
    retry_name = f"retry deliveries every {RETRY_MINUTES} min"
    if not _keep(scheduler, RETRY_JOB, retry_name):
        scheduler.add_job(
            jobs.retry_job,
            IntervalTrigger(minutes=RETRY_MINUTES, timezone=UTC),
            id=RETRY_JOB,
            name=retry_name,
            replace_existing=True,
            misfire_grace_time=None,
        )
    if sync is not None:
        scheduler.add_job(
            sync,
            IntervalTrigger(seconds=SYNC_SECONDS, timezone=UTC),
            id=SYNC_JOB,
            name=f"sync digest jobs every {SYNC_SECONDS} s",
            jobstore=LOCAL_STORE,
            executor=LOCAL_STORE,
            replace_existing=True,
            misfire_grace_time=None,
        )


@dataclass(frozen=True)
class SyncResult:
    added: int
    replaced: int
    removed: int


def sync_digest_jobs(scheduler: BackgroundScheduler, rt: Runtime) -> SyncResult:
    """One job per enabled digest; changed schedules replaced, turned-off digests removed."""
    grace = rt.settings.digest_late_seconds
    wanted = {digest_job_id(c.channel): c for c in digest_schedule.scheduled(rt.engine)}
    existing = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(DIGEST_PREFIX)}
    added = replaced = 0
    for job_id, config in wanted.items():
        name = digest_job_name(config, rt.settings.digest_late_hours)
        job = existing.get(job_id)
        if job is not None and job.name == name:
            continue
        scheduler.add_job(
            jobs.digest_job,
            config.trigger(),
            id=job_id,
            name=name,
            kwargs={"team_id": config.channel.team_id, "channel_id": config.channel.channel_id},
            replace_existing=True,
            misfire_grace_time=grace,
            coalesce=True,
        )
        added += job is None
        replaced += job is not None
    removed = 0
    for job_id in existing.keys() - wanted.keys():
        scheduler.remove_job(job_id)
        removed += 1
    if added or replaced or removed:
        log.info("digest jobs: %d added, %d rescheduled, %d removed", added, replaced, removed)
    return SyncResult(added, replaced, removed)


def stop_scheduler(scheduler: BackgroundScheduler) -> None:
    """Shut a scheduler down without it touching the stored jobs.

    APScheduler's main loop processes jobs once more after ``shutdown()``, against executors
    already shut down: a job due at that moment is not run, yet its next run time is moved on,
    so that run would be lost. Detaching the job store first (which waits for any processing
    in progress) leaves every stored job exactly as it was for the next scheduler.
    """
    scheduler.pause()
    scheduler.remove_jobstore("default")
    scheduler.shutdown(wait=False)


class SchedulerRunner:
    """Runs a scheduler while this process holds the leader lock; stands by otherwise.

    ``tick()`` is one step (tests call it directly); ``start()`` calls it every
    ``check_seconds`` in a daemon thread. ``listeners`` are (callback, event mask) pairs added
    to every scheduler it starts.
    """

    def __init__(
        self,
        rt: Runtime,
        lock: LeaderLock,
        *,
        listeners: Sequence[tuple[Callable[[JobEvent], None], int]] = (),
    ) -> None:
        self.runtime = rt
        self.lock = lock
        self.check_seconds = rt.settings.leader_check_seconds
        self.listeners = list(listeners)
        self.scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tick_lock = threading.Lock()
        self._stopping = threading.Lock()
        self._stopped = False

    @property
    def leading(self) -> bool:
        return self.scheduler is not None

    def tick(self) -> bool:
        """Take the lead if it is free; stop running jobs if the lock was lost."""
        with self._tick_lock:
            if self.scheduler is None:
                if not self._stop.is_set() and self.lock.acquire():
                    self._start_scheduler()
            elif not self.lock.holds():
                log.error("lost the scheduler lock: standing by")
                self._stop_scheduler()
            return self.leading

    def sync(self) -> SyncResult | None:
        return sync_digest_jobs(self.scheduler, self.runtime) if self.scheduler else None

    def _start_scheduler(self) -> None:
        scheduler = build_scheduler(self.runtime)
        scheduler.add_listener(self._missed, EVENT_JOB_MISSED)
        for callback, mask in self.listeners:
            scheduler.add_listener(callback, mask)
        # Paused until the jobs are in line with the settings and the digests table, then
        # resumed: due and misfired runs are processed from then on.
        scheduler.start(paused=True)
        self.scheduler = scheduler
        try:
            ensure_jobs(scheduler, self.runtime, sync=self.sync)
            sync_digest_jobs(scheduler, self.runtime)
        except Exception:
            self._stop_scheduler()
            self.lock.release()  # let another process (or the next tick) try
            raise
        scheduler.resume()

    def _stop_scheduler(self) -> None:
        if self.scheduler is not None:
            stop_scheduler(self.scheduler)
            self.scheduler = None

    def _missed(self, event: JobExecutionEvent) -> None:
        """A digest missed by more than the grace period: say so in ``/digest status``."""
        if not event.job_id.startswith(DIGEST_PREFIX):
            log.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
            return
        team_id, _, channel_id = event.job_id[len(DIGEST_PREFIX) :].partition(":")
        when = event.scheduled_run_time
        stamp = (
            when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            if isinstance(when, datetime)
            else ""
        )
        with self.runtime.engine.begin() as c:
            digest_schedule.record_run(
                c,
                Channel(team_id, channel_id),
                self.runtime.clock.now(),
                f"missed: hubpulse was not running at {stamp} nor within "
                f"{self.runtime.settings.digest_late_hours:g} hours after",
            )

    def start(self) -> SchedulerRunner:
        """Stand by or lead, in a background thread, until ``stop()``."""
        self._guarded_tick()
        self._thread = threading.Thread(target=self._loop, name="hubpulse-leader", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.check_seconds):
            self._guarded_tick()

    def _guarded_tick(self) -> None:
        """A tick whose failure (the database is down) is logged and retried next time."""
        try:
            self.tick()
        except Exception:
            log.exception("scheduler leader check failed; retrying in %s s", self.check_seconds)

    def stop(self) -> None:
        """Stop leading and release the lock, from the thread that waited (never from a
        signal handler: see ``bot.cli.signals``). Idempotent; a call made while another is under way
        returns at once."""
        if not self._stopping.acquire(blocking=False):
            return
        try:
            if self._stopped:
                return
            self._stop.set()
            if self._thread is not None and self._thread is not threading.current_thread():
                self._thread.join(timeout=self.check_seconds + 5)
            with self._tick_lock:
                self._stop_scheduler()
                self.lock.release()
            self._stopped = True
        finally:
            self._stopping.release()


def start_scheduler(
    settings: Settings, engine: Engine, *, rt: Runtime | None = None
) -> SchedulerRunner:
    """Run the scheduled jobs from this process when it holds the leader lock (used by
    ``hubpulse serve`` and ``hubpulse scheduler``)."""
    current = rt or from_settings(settings, engine)
    return SchedulerRunner(current, leader_lock(engine)).start()
