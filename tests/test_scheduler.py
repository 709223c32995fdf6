"""The persistent scheduler: cron triggers by day name, jobs that survive restarts, a digest on
time, late after a short downtime, never twice, and one runner among several processes.

APScheduler runs for real here (BackgroundScheduler, SQLAlchemy job store in the test database).
Tests never sleep: a due job is made due *now* and the test waits on what reaches the fake
Slack (or on the scheduler's own events), while the job logic reads the frozen clock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from sqlalchemy import create_engine, text

from bot.channels import digest_schedule
from bot.channels.channel import Channel
from bot.core.registry import load_registry
from bot.ingest.archive import ArchiveError, LocalArchive
from bot.ingest.backfill import BackfillReport, backfill
from bot.ingest.demo import load_demo
from bot.jobs import tasks as jobs
from bot.jobs.leader import AdvisoryLock, SingleProcess, key_parts
from bot.jobs.runtime import Runtime
from bot.jobs.scheduler import (
    ARCHIVE_JOB,
    REFRESH_JOB,
    SchedulerRunner,
    build_scheduler,
    digest_job_id,
    ensure_jobs,
    stop_scheduler,
    sync_digest_jobs,
)
from bot.store.engine import make_engine, upgrade
from bot.store.history import imported_weeks
from commands import digest as digest_command
from commands import subscribe
from tests.hubworld import CHANNEL, TEAM, World, installed_world, open_world

HERE = Channel(TEAM, CHANNEL)


def _real_start() -> datetime:
    """The world starts now, in real time: APScheduler fires jobs by the real clock, so the
    refresh job (due 6 hours after the latest snapshot) stays in the future; the jobs' own
    logic reads the frozen clock, which the tests move to the Monday they need."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


def _monday(world: World, hour: int, minutes: int = 0) -> datetime:
    """The first Monday after the world's start, at ``hour``:``minutes`` UTC."""
    now = world.clock.now()
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=0, minute=0)
    return monday + timedelta(hours=hour, minutes=minutes)


DIGEST_JOB = digest_job_id(HERE)
WAIT = 10.0


class Events:
    """Collects the scheduler's job events; ``wait_for`` blocks until one matches."""

    def __init__(self) -> None:
        self.seen: list[JobEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: JobEvent) -> None:
        with self._cond:
            self.seen.append(event)
            self._cond.notify_all()

    def wait_for(self, code: int, job_id: str, count: int = 1) -> None:
        def done() -> bool:
            return sum(e.code == code and e.job_id == job_id for e in self.seen) >= count

        with self._cond:
            assert self._cond.wait_for(done, timeout=WAIT), f"no {code} for {job_id}"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with installed_world(tmp_path, start=_real_start()) as opened:
        opened.refresh()  # a snapshot "now", so the refresh job is not due yet
        yield opened


@pytest.fixture
def events() -> Events:
    return Events()


def _runner(world: World, events: Events, lock: object | None = None) -> SchedulerRunner:
    return SchedulerRunner(
        world.runtime,
        lock or SingleProcess(),  # type: ignore[arg-type]
        listeners=[(events, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)],
    )


def _due_now(runner: SchedulerRunner, job_id: str, when: datetime | None = None) -> None:
    assert runner.scheduler is not None
    runner.scheduler.modify_job(job_id, next_run_time=when or datetime.now(UTC))


def _set_stored_run_time(rt: Runtime, job_id: str, when: datetime) -> None:
    """What a process that went down leaves behind: the job's next run time, now past."""
    offline = build_scheduler(rt)
    offline.start(paused=True)
    try:
        offline.modify_job(job_id, next_run_time=when)
    finally:
        stop_scheduler(offline)


def test_digest_triggers_use_day_names_in_the_channel_timezone() -> None:
    berlin = digest_schedule.DigestConfig(HERE, True, "mon", "09:00", "Europe/Berlin", "U1")
    trigger = berlin.trigger()
    assert "day_of_week='mon'" in str(trigger)
    winter = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)  # a Tuesday
    assert berlin.next_run(winter) == datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 7, 12, 0, tzinfo=UTC)
    assert berlin.next_run(summer) == datetime(2026, 7, 13, 7, 0, tzinfo=UTC)
    assert berlin.slot_before(winter) == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    assert berlin.period(berlin.slot_before(winter)) == "2026-01-05"
    friday = digest_schedule.DigestConfig(HERE, True, "fri", "16:30", "America/New_York", "U1")
    assert friday.next_run(winter) == datetime(2026, 1, 9, 21, 30, tzinfo=UTC)


def test_jobs_follow_the_digests_table_and_a_restart_keeps_due_runs(world: World) -> None:
    other = world.add_channel(TEAM, "C2")
    scheduler = build_scheduler(world.runtime)
    scheduler.start(paused=True)
    try:
        world.run(digest_command.COMMAND, "on monday 09:00 Europe/Berlin")
        world.run(digest_command.COMMAND, "on fri 16:30 UTC", channel_id=other.channel_id)
        assert sync_digest_jobs(scheduler, world.runtime).added == 2
        job = scheduler.get_job(DIGEST_JOB)
        assert job is not None
        assert job.trigger.timezone.key == "Europe/Berlin"
        assert job.misfire_grace_time == 24 * 3600
        assert job.coalesce
        assert job.func is jobs.digest_job
        assert job.kwargs == {
            "team_id": TEAM,
            "channel_id": CHANNEL,
        }
        # An unchanged schedule keeps its job (and its due run) as it is.
        past = datetime.now(UTC) - timedelta(hours=2)
        scheduler.modify_job(DIGEST_JOB, next_run_time=past)
        result = sync_digest_jobs(scheduler, world.runtime)
        assert (result.added, result.replaced, result.removed) == (0, 0, 0)
        assert scheduler.get_job(DIGEST_JOB).next_run_time == past  # type: ignore[union-attr]
        # A new schedule replaces it; turning the digest off removes it.
        world.run(digest_command.COMMAND, "on tuesday 10:00 Europe/Berlin")
        assert sync_digest_jobs(scheduler, world.runtime).replaced == 1
        assert "day_of_week='tue'" in str(scheduler.get_job(DIGEST_JOB).trigger)  # type: ignore[union-attr]
        world.run(digest_command.COMMAND, "off", channel_id=other.channel_id)
        assert sync_digest_jobs(scheduler, world.runtime).removed == 1
        assert {j.id for j in scheduler.get_jobs()} == {DIGEST_JOB}
    finally:
        stop_scheduler(scheduler)


def test_a_digest_on_time_is_posted_once(world: World, events: Events) -> None:
    world.run(digest_command.COMMAND, "on monday 09:00 UTC")
    runner = _runner(world, events)
    assert runner.tick()
    try:
        assert runner.scheduler is not None
        assert runner.scheduler.get_job(REFRESH_JOB)
        world.clock.set(_monday(world, 9) + timedelta(seconds=30))
        _due_now(runner, DIGEST_JOB)
        world.slack.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls))
        events.wait_for(EVENT_JOB_EXECUTED, DIGEST_JOB)
        (message,) = world.posts()
        assert "Weekly open-model digest" in message["text"]
        assert "Late" not in message["text"]
        # The job firing again for the same week (a restart, a retry) posts nothing.
        _due_now(runner, DIGEST_JOB)
        events.wait_for(EVENT_JOB_EXECUTED, DIGEST_JOB, count=2)
        jobs.digest_job(TEAM, CHANNEL, runtime=world.runtime)
        assert len(world.posts()) == 1
        status = world.run(digest_command.COMMAND, "status").text
        assert "sent" in status
        assert "Next run" in status
    finally:
        runner.stop()


def test_a_digest_missed_while_down_less_than_a_day_is_sent_once_marked_late(
    world: World, events: Events
) -> None:
    world.run(digest_command.COMMAND, "on monday 09:00 UTC")
    runner = _runner(world, events)
    runner.tick()
    runner.stop()  # hubpulse goes down before Monday 09:00...
    # ...and comes back at 14:00: the run it missed 5 hours ago is still due.
    _set_stored_run_time(world.runtime, DIGEST_JOB, datetime.now(UTC) - timedelta(hours=5))
    due = _monday(world, 9)
    world.clock.set(due + timedelta(hours=5))
    restarted = _runner(world, events)
    restarted.tick()
    try:
        events.wait_for(EVENT_JOB_EXECUTED, DIGEST_JOB)
        (message,) = world.posts()
        assert f"Late: this digest was due Monday {due.day} {due:%b} 09:00 (UTC)" in message["text"]
        config = digest_schedule.get(world.engine, HERE)
        assert config is not None
        assert config.last_result == "sent, late"
        assert restarted.scheduler is not None
        job = restarted.scheduler.get_job(DIGEST_JOB)
        assert job is not None
        assert job.next_run_time > datetime.now(UTC)  # the missed run ran once, coalesced
    finally:
        restarted.stop()


def test_a_digest_missed_by_more_than_a_day_is_skipped_and_status_says_so(
    world: World, events: Events
) -> None:
    world.run(digest_command.COMMAND, "on monday 09:00 UTC")
    runner = _runner(world, events)
    runner.tick()
    runner.stop()
    _set_stored_run_time(world.runtime, DIGEST_JOB, datetime.now(UTC) - timedelta(hours=30))
    world.clock.set(_monday(world, 9) + timedelta(hours=30))
    restarted = _runner(world, events)
    restarted.tick()
    try:
        events.wait_for(EVENT_JOB_MISSED, DIGEST_JOB)
        assert world.posts() == []
        status = world.run(digest_command.COMMAND, "status").text
        assert "missed" in status
        assert "24 hours" in status
    finally:
        restarted.stop()


def test_the_refresh_job_refreshes_then_alerts(world: World, events: Events) -> None:
    world.run(subscribe.COMMAND, "deepseek-ai")
    runner = _runner(world, events)
    runner.tick()
    try:
        jobs.alerts_job(
            runtime=world.runtime
        )  # plan the snapshot taken before the scheduler started
        world.clock.advance(timedelta(hours=6))
        world.release("deepseek-ai/DeepSeek-V4", downloads=40_000)
        _due_now(runner, REFRESH_JOB)
        events.wait_for(EVENT_JOB_EXECUTED, REFRESH_JOB)
        (text_,) = world.texts()
        assert "DeepSeek-V4" in text_
        assert runner.scheduler is not None
        job = runner.scheduler.get_job(REFRESH_JOB)
        assert job is not None
        assert job.trigger.interval == timedelta(hours=6)
    finally:
        runner.stop()


def test_an_empty_history_is_backfilled_in_the_background_at_start(
    world: World, events: Events, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    for day in ("2025-01-06", "2025-01-13"):
        path = archive / "models" / day / "models.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(pa.table({"id": ["Qwen/a", "x/b"], "downloads": [3, 1]}), path)
    registry = load_registry()
    world.runtime.import_archive = lambda: backfill(
        world.engine, LocalArchive(archive), registry, clock=world.clock
    )
    runner = _runner(world, events)
    runner.tick()
    try:
        events.wait_for(EVENT_JOB_EXECUTED, ARCHIVE_JOB)  # due at once: the history was empty
        assert [w.day.isoformat() for w in imported_weeks(world.engine)] == [
            "2025-01-06",
            "2025-01-13",
        ]
        assert runner.scheduler is not None
        job = runner.scheduler.get_job(ARCHIVE_JOB)
        assert job is not None
        assert job.next_run_time > datetime.now(UTC) + timedelta(hours=11)
    finally:
        runner.stop()
    again = _runner(world, events)
    again.tick()  # not empty now: the next import waits for its interval
    try:
        assert again.scheduler is not None
        job = again.scheduler.get_job(ARCHIVE_JOB)
        assert job is not None
        assert job.next_run_time > datetime.now(UTC) + timedelta(hours=11)
    finally:
        again.stop()


def test_an_archive_that_is_gone_leaves_the_job_and_the_live_data_alone(world: World) -> None:
    def gone() -> BackfillReport:
        raise ArchiveError("the archive x/y is not on http://hub (taken down)")

    world.runtime.import_archive = gone
    jobs.archive_job(runtime=world.runtime)  # logged, nothing raised
    assert world.runtime.reader.latest() is not None


@pytest.mark.postgres
def test_two_schedulers_race_on_postgresql_and_each_digest_is_posted_once(
    postgres_url: str, events: Events
) -> None:
    first_engine, second_engine = make_engine(postgres_url), make_engine(postgres_url)
    upgrade(first_engine)
    try:
        with open_world(first_engine, start=_real_start()) as world:
            world.refresh()
            world.run(digest_command.COMMAND, "on monday 09:00 UTC")
            world.clock.set(_monday(world, 9, minutes=1))
            runners = [
                _runner(world, events, AdvisoryLock(engine))
                for engine in (first_engine, second_engine)
            ]
            barrier = threading.Barrier(2)
            leading: list[bool] = [False, False]

            def race(i: int) -> None:
                barrier.wait()
                leading[i] = runners[i].tick()

            threads = [threading.Thread(target=race, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(leading) == [False, True]
            leader, standby = (runners[0], runners[1]) if leading[0] else (runners[1], runners[0])
            assert standby.scheduler is None
            assert not standby.tick()

            _due_now(leader, DIGEST_JOB)
            events.wait_for(EVENT_JOB_EXECUTED, DIGEST_JOB)
            # The standby running the job itself anyway (or an operator's `digest send`)
            # finds the digest sent.
            jobs.digest_job(TEAM, CHANNEL, runtime=world.runtime)
            # The leader stops; the standby takes over the same job store and runs it again.
            leader.stop()
            assert standby.tick()
            _due_now(standby, DIGEST_JOB)
            events.wait_for(EVENT_JOB_EXECUTED, DIGEST_JOB, count=2)
            standby.stop()
            sent = [c for c in world.slack.calls_to("chat.postMessage") if c.ok]
            assert len(sent) == 1
    finally:
        first_engine.dispose()
        second_engine.dispose()


@pytest.mark.postgres
def test_a_leader_that_loses_its_lock_stops_running_jobs(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade(engine)
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    first, second = AdvisoryLock(engine), AdvisoryLock(engine)
    try:
        assert first.acquire()
        assert first.holds()
        assert not second.acquire()
        assert first.key is not None
        with admin.connect() as connection:  # the leader's database session dies
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted "
                    "AND classid = CAST(:high AS oid) AND objid = CAST(:low AS oid)"
                ),
                key_parts(first.key),
            )
        assert not first.holds()
        assert second.acquire()
        assert second.holds()
        second.release()
        assert first.acquire()
        first.release()
    finally:
        admin.dispose()
        engine.dispose()


def test_a_scheduler_started_twice_on_sqlite_keeps_one_set_of_jobs(
    world: World, events: Events
) -> None:
    world.run(digest_command.COMMAND, "on monday 09:00 UTC")
    for _ in range(2):
        runner = _runner(world, events)
        runner.tick()
        assert runner.scheduler is not None
        ids = sorted(job.id for job in runner.scheduler.get_jobs())
        runner.stop()
    assert ids == sorted([DIGEST_JOB, REFRESH_JOB, "archive", "deliveries", "digest-sync"])


def _refresh_next_run(world: World) -> datetime:
    """The refresh job's first run as ``ensure_jobs`` plans it on a paused scheduler (nothing
    runs), by the world's frozen clock."""
    scheduler = build_scheduler(world.runtime)
    scheduler.start(paused=True)
    try:
        ensure_jobs(scheduler, world.runtime)
        job = scheduler.get_job(REFRESH_JOB)
        assert job is not None
        return job.next_run_time
    finally:
        stop_scheduler(scheduler)


def test_a_store_holding_only_demo_data_is_refreshed_at_once(tmp_path: Path) -> None:
    """Right after ``make demo``, serve and scheduler fetch real data now, not in six hours."""
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade(engine)
    try:
        with open_world(engine, start=now) as world:
            load_demo(engine, registry=world.registry, clock=world.clock)
            assert world.runtime.reader.latest().taken_at == now  # a fresh demo snapshot
            assert _refresh_next_run(world) == now
    finally:
        engine.dispose()


def test_a_stored_refresh_job_is_moved_to_now_when_the_latest_snapshot_is_demo(
    tmp_path: Path,
) -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    engine = make_engine(f"sqlite:///{tmp_path / 'real.db'}")
    upgrade(engine)
    try:
        with open_world(engine, start=now) as world:
            world.refresh()  # a real snapshot, taken now: the next refresh is due in 6 hours
            assert _refresh_next_run(world) == now + timedelta(hours=6)
            world.clock.advance(timedelta(minutes=1))
            load_demo(engine, registry=world.registry, clock=world.clock, force=True)
            assert _refresh_next_run(world) == now + timedelta(minutes=1)
    finally:
        engine.dispose()
