"""Two real ``hubpulse scheduler`` processes racing on one PostgreSQL database.

Both start at once against a store whose snapshot is stale and whose digest for this week's
slot is due (a minute ago, as after a restart): exactly one process takes the leader lock
(``bot.jobs.leader``), runs the refresh once and posts the digest once. Then the leader is
killed with SIGKILL: PostgreSQL ends its session, which frees the advisory lock, and the other
process takes over at its next leader check (``HUBPULSE_LEADER_CHECK_SECONDS``, short here),
without posting the
digest or refreshing again.

A leader that freezes instead (``SIGSTOP``, a paused VM) keeps its connection open: the lock
is a lease (``LEASE_SECONDS``), which the server ends once the holder stops checking it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, select

from bot.channels import digest_schedule
from bot.channels.channel import Channel
from bot.core.clock import FrozenClock
from bot.core.settings import LEADER_CHECK_MAX_SECONDS, load_settings
from bot.ingest.hub import connect
from bot.ingest.org_source import configured_registry
from bot.ingest.refresh import refresh
from bot.jobs import tasks
from bot.jobs.leader import LEASE_SECONDS, AdvisoryLock
from bot.jobs.scheduler import (
    ARCHIVE_JOB,
    digest_job_id,
    digest_job_name,
    stop_scheduler,
)
from bot.store import schema
from bot.store.channel_tables import scheduler_jobs
from bot.store.engine import make_engine, upgrade
from bot.store.snapshots import COMPLETE, FAILED, RUNNING
from tests.fakes.hub import FakeHub, make_record
from tests.fakes.slack import FakeSlack
from tests.faults.gated_hub import GatedHub

pytestmark = pytest.mark.postgres

START = "from bot.cli import run; run()"
ROOT = Path(__file__).resolve().parents[2]
TEAM, CHANNEL, TOKEN = "T1", "C1", "xoxb-1111-2222-race"
LEADING = "this process now runs the scheduled jobs"
DEADLINE = 30.0
"""How long a step may take before the test gives up (slow CI machines)."""
LEADER_CHECK_SECONDS = 2.0
"""The schedulers' ``HUBPULSE_LEADER_CHECK_SECONDS`` here (production's default is 15)."""


@dataclass
class Scheduler:
    process: subprocess.Popen[str]
    log: Path

    def text(self) -> str:
        return self.log.read_text()


@pytest.fixture
def hub() -> Iterator[GatedHub]:
    fake = GatedHub([make_record("Qwen/Qwen3-8B", downloads=9000)])
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_workspace(TEAM, TOKEN, team_name="Acme")
        fake.add_channel(TEAM, CHANNEL, member=True)
        yield fake


def _stale_snapshot(engine: Engine, hub: FakeHub) -> None:
    """A migrated store whose one snapshot is two refresh intervals old: a refresh is due."""
    upgrade(engine)
    hours = load_settings().refresh_hours
    long_ago = FrozenClock(datetime.now(UTC) - timedelta(hours=hours * 2))
    refresh(engine, connect(hub.url, None), configured_registry(None), 10, clock=long_ago)


def _prepare(engine: Engine, hub: FakeHub) -> datetime:
    """A stale snapshot and a digest whose slot was a minute ago, its job stored as a stopped
    scheduler leaves it (due). Returns the slot."""
    _stale_snapshot(engine, hub)
    settings = load_settings()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    slot = now - timedelta(minutes=1)
    weekday = slot.strftime("%a").lower()
    config = digest_schedule.enable(
        engine,
        Channel(TEAM, CHANNEL),
        weekday,
        f"{slot:%H:%M}",
        "UTC",
        "U1",
        slot - timedelta(days=1),
    )
    store = SQLAlchemyJobStore(
        engine=make_engine(engine.url.render_as_string(hide_password=False)),
        tablename=scheduler_jobs.name,
    )
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=UTC)
    scheduler.start(paused=True)
    scheduler.add_job(
        tasks.digest_job,
        config.trigger(),
        id=digest_job_id(config.channel),
        name=digest_job_name(config, settings.digest_late_hours),
        kwargs={"team_id": TEAM, "channel_id": CHANNEL},
        next_run_time=slot,
        misfire_grace_time=settings.digest_late_seconds,
        coalesce=True,
    )
    stop_scheduler(scheduler)  # leaves the stored job as it is: due
    return slot


def _start(url: str, hub: FakeHub, slack: FakeSlack, tmp_path: Path, name: str) -> Scheduler:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": slack.api_url,
        "HUBPULSE_DATABASE_URL": url,
        "HF_ENDPOINT": hub.url,
        "HUBPULSE_ARCHIVE_REPO": str(tmp_path / "no-archive"),
        "HUBPULSE_LEADER_CHECK_SECONDS": str(LEADER_CHECK_SECONDS),
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / f"{name}.log"
    with log.open("w") as out:  # a file: a full pipe would block the process's logging
        process = subprocess.Popen(
            [sys.executable, "-c", START, "scheduler"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return Scheduler(process, log)


def _until(
    condition: Callable[[], object],
    what: str,
    schedulers: list[Scheduler],
    timeout: float = DEADLINE,
) -> float:
    """Poll ``condition`` until it holds; returns how long it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            logs = "\n---\n".join(s.text()[-2000:] for s in schedulers)
            pytest.fail(f"no {what} within {timeout} s:\n{logs}")
        time.sleep(0.02)
    return time.monotonic() - started


def _kill_all(schedulers: list[Scheduler]) -> None:
    """SIGKILL whichever schedulers still run, and reap them."""
    for s in schedulers:
        if s.process.poll() is None:
            s.process.kill()
            s.process.wait()


def _snapshots(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(select(schema.snapshots.c.status).order_by(schema.snapshots.c.id))
        return [str(status) for status in rows.scalars()]


def _due(engine: Engine) -> list[str]:
    """The stored jobs (bar the archive import, at once on an empty history) due by now."""
    now = time.time()
    with engine.connect() as connection:
        rows = connection.execute(select(scheduler_jobs.c.id, scheduler_jobs.c.next_run_time))
        return [
            job for job, when in rows if job != ARCHIVE_JOB and when is not None and when <= now
        ]


def _digest_posts(slack: FakeSlack) -> int:
    return sum(1 for call in slack.calls_to("chat.postMessage") if call.ok)


def test_two_schedulers_run_each_job_once_and_the_survivor_takes_over(
    postgres_url: str, hub: FakeHub, slack: FakeSlack, tmp_path: Path
) -> None:
    engine = make_engine(postgres_url)
    schedulers: list[Scheduler] = []
    try:
        _prepare(engine, hub)
        schedulers = [_start(postgres_url, hub, slack, tmp_path, n) for n in ("a", "b")]
        _until(
            lambda: all("hubpulse scheduler started" in s.text() for s in schedulers),
            "start of both",
            schedulers,
        )
        leaders = [s for s in schedulers if LEADING in s.text()]
        assert len(leaders) == 1, [s.text()[-1000:] for s in schedulers]
        [leader] = leaders
        [standby] = [s for s in schedulers if s is not leader]
        assert "standing by" in standby.text()

        ran_digest = f"bot.jobs.tasks: digest {TEAM}/{CHANNEL}"
        _until(lambda: "refresh: snapshot 2 complete" in leader.text(), "refresh", schedulers)
        _until(lambda: ran_digest in leader.text(), "digest job", schedulers)
        assert _snapshots(engine) == [COMPLETE, COMPLETE]
        assert _digest_posts(slack) == 1

        leader.process.kill()
        killed = time.monotonic()
        leader.process.wait(DEADLINE)
        took_over = _until(
            lambda: LEADING in standby.text(),
            "takeover",
            schedulers,
            timeout=LEADER_CHECK_SECONDS + 5,
        )
        # Nothing is due for the new leader: the refresh and this week's digest ran already.
        assert _due(engine) == [], _due(engine)
        assert _digest_posts(slack) == 1, slack.summary()
        assert _snapshots(engine) == [COMPLETE, COMPLETE]
        assert "refresh: snapshot" not in standby.text()
        assert ran_digest not in standby.text()
        print(f"takeover {time.monotonic() - killed:.1f} s after SIGKILL ({took_over:.1f} s)")
    finally:
        _kill_all(schedulers)
        engine.dispose()


def test_the_survivor_redoes_the_refresh_its_killed_leader_left_half_done(
    postgres_url: str, hub: GatedHub, slack: FakeSlack, tmp_path: Path
) -> None:
    """The leader is killed in the middle of its refresh (the fake Hub holds its listing):
    the survivor takes over, finds the store still stale and refreshes at once; the killed
    snapshot is marked abandoned."""
    engine = make_engine(postgres_url)
    schedulers: list[Scheduler] = []
    try:
        _stale_snapshot(engine, hub)
        hub.hold(1)  # the next top-models listing: the leader's refresh
        schedulers = [_start(postgres_url, hub, slack, tmp_path, n) for n in ("a", "b")]
        _until(
            lambda: all("hubpulse scheduler started" in s.text() for s in schedulers),
            "start of both",
            schedulers,
        )
        _until(hub.reached.is_set, "refresh held mid-crawl", schedulers)
        _until(lambda: _snapshots(engine) == [COMPLETE, RUNNING], "running snapshot", schedulers)
        [leader] = [s for s in schedulers if LEADING in s.text()]
        [survivor] = [s for s in schedulers if s is not leader]
        assert "standing by" in survivor.text()

        leader.process.kill()
        killed = time.monotonic()
        leader.process.wait(DEADLINE)
        _until(
            lambda: _snapshots(engine) == [COMPLETE, FAILED, COMPLETE],
            "refresh by the survivor",
            schedulers,
            timeout=LEADER_CHECK_SECONDS + DEADLINE,
        )
        assert LEADING in survivor.text()
        # The line is logged just after the commit the loop above saw.
        _until(lambda: "refresh: snapshot 3 complete" in survivor.text(), "its log", schedulers)
        print(f"survivor's refresh complete {time.monotonic() - killed:.1f} s after SIGKILL")
    finally:
        _kill_all(schedulers)
        engine.dispose()


LEASE = 2.0
"""A short lease for the frozen-holder test (production's is ``LEASE_SECONDS``)."""


def test_a_frozen_leader_loses_the_lock_after_its_lease(postgres_url: str) -> None:
    """A holder that stops checking (``SIGSTOP``, a paused VM) without its connection closing:
    the server ends its session after the lease, and a standby takes over; a live holder that
    keeps checking never loses it."""
    engine = make_engine(postgres_url)
    holder = AdvisoryLock(engine, lease_seconds=LEASE)
    standby = AdvisoryLock(engine, lease_seconds=LEASE)
    try:
        assert holder.acquire()
        last_check = time.monotonic()
        for _ in range(8):  # a check every quarter lease, as the scheduler's: two leases, held
            assert holder.holds()
            last_check = time.monotonic()
            assert not standby.acquire()
            time.sleep(LEASE / 4)
        # From its last check on the holder says nothing: frozen.
        _until(standby.acquire, "takeover from a frozen holder", [], timeout=DEADLINE)
        took = time.monotonic() - last_check
        assert took >= LEASE * 0.9, took  # the server counts from just before the last answer
        assert not holder.holds()  # back from the freeze: it knows it lost the lead
        assert standby.holds()
        print(f"frozen holder replaced {took:.2f} s after its last check (lease {LEASE} s)")
    finally:
        standby.release()
        holder.release()
        engine.dispose()


def test_the_lease_outlasts_several_of_the_longest_leader_checks() -> None:
    assert LEASE_SECONDS >= 3 * LEADER_CHECK_MAX_SECONDS
