"""Concurrent ``/subscribe`` and ``/digest on`` for the same channel: one row each, nothing
lost, no IntegrityError, on SQLite and on the real PostgreSQL (``INSERT ... ON CONFLICT``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import Engine, func, select

from bot.channels import digest_schedule, subscriptions
from bot.channels.channel import Channel
from bot.channels.subscriptions import CREATED, EVERY_FEATURE, ORG, RELEASES, SHARE, Target
from bot.core.clock import as_utc
from bot.store.channel_tables import digests
from bot.store.channel_tables import subscriptions as subscriptions_table

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
THREADS = 8
ROUNDS = 6
T = TypeVar("T")


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run every call in its own thread, all released together; re-raise any failure."""
    barrier = threading.Barrier(len(calls))
    results: list[T | None] = [None] * len(calls)
    failures: list[BaseException] = []

    def work(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except BaseException as exc:  # collected and re-raised by the caller
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if failures:
        raise failures[0]
    return [r for r in results if r is not None]


def test_concurrent_subscribes_add_up_to_one_row(engine: Engine) -> None:
    qwen = Target(ORG, "Qwen")
    for round_ in range(ROUNDS):
        channel = Channel("T1", f"C{round_}")
        calls: list[Callable[[], subscriptions.Change]] = [
            lambda i=i, channel=channel: subscriptions.subscribe(
                engine,
                channel,
                qwen,
                frozenset({RELEASES if i % 2 else SHARE}),
                f"U{i}",
                NOW,
                share=(0.1, 1),
            )
            for i in range(THREADS)
        ]
        changes = at_once(calls)
        assert [c.outcome for c in changes].count(CREATED) == 1
        (row,) = subscriptions.for_channel(engine, channel)
        assert row.features == EVERY_FEATURE  # neither feature lost to the other
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(subscriptions_table)).scalar() == ROUNDS


def test_concurrent_digest_on_leaves_one_schedule(engine: Engine) -> None:
    times = [f"{9 + i:02d}:00" for i in range(THREADS)]
    for round_ in range(ROUNDS):
        channel = Channel("T1", f"C{round_}")
        calls: list[Callable[[], digest_schedule.DigestConfig]] = [
            lambda i=i, channel=channel: digest_schedule.enable(
                engine, channel, "fri", times[i], "UTC", f"U{i}", NOW + timedelta(seconds=i)
            )
            for i in range(THREADS)
        ]
        configs = at_once(calls)
        assert len(configs) == THREADS
        final = digest_schedule.get(engine, channel)
        assert final is not None
        assert final.enabled
        assert final.time in times
        assert final.added_by == f"U{times.index(final.time)}"  # one command's whole row
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(digests)).scalar() == ROUNDS


def test_digest_on_again_keeps_when_it_was_created_and_resumes(engine: Engine) -> None:
    channel = Channel("T1", "C1")
    digest_schedule.enable(engine, channel, "mon", "09:00", "UTC", "U1", NOW)
    digest_schedule.disable(engine, channel, NOW)
    later = NOW + timedelta(days=3)
    config = digest_schedule.enable(engine, channel, "fri", "17:30", "Asia/Tokyo", "U2", later)
    assert (config.enabled, config.spec, config.added_by) == (True, "fri 17:30 Asia/Tokyo", "U2")
    with engine.connect() as c:
        created = c.execute(select(digests.c.created_at)).scalar_one()
    assert as_utc(created) == NOW
