"""One message is one claim, one post and one record: the transactions the real engine sees.

The claim commits before Slack is called (so another process sees it); what Slack said, the
channel's health and the digest's last run are recorded together in a second transaction.
Counted with SQLAlchemy events on the engine: transactions begun (reads included),
connections checked out of the pool, and commits (the writes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bot.channels import alerts, digest_schedule, subscriptions
from bot.channels import ledger as delivery
from bot.channels.channel import Channel
from bot.channels.digest_schedule import DigestConfig
from bot.delivery.sender import DONE, FAILED, RETRY, SENT
from bot.jobs import send as dispatch
from bot.jobs import tasks as jobs
from bot.store.engine import make_engine, upgrade
from commands import digest as digest_command
from commands import subscribe
from tests.hubworld import CHANNEL, TEAM, World, installed_world, open_world

MONDAY_9_UTC = timedelta(hours=9)


class Transactions:
    """What the engine does inside the ``with`` block."""

    def __init__(self, engine: Engine) -> None:
        self.begun = self.checkouts = self.commits = 0
        self._listeners: list[tuple[Any, str, Callable[..., None]]] = [
            (engine, "begin", self._begin),
            (engine, "commit", self._commit),
            (engine.pool, "checkout", self._checkout),
        ]

    def _begin(self, *_: object) -> None:
        self.begun += 1

    def _checkout(self, *_: object) -> None:
        self.checkouts += 1

    def _commit(self, *_: object) -> None:
        self.commits += 1

    def __enter__(self) -> Transactions:
        for target, name, fn in self._listeners:
            event.listen(target, name, fn)
        return self

    def __exit__(self, *_: object) -> None:
        for target, name, fn in self._listeners:
            event.remove(target, name, fn)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "sqlite":
        with installed_world(tmp_path) as opened:
            yield opened
        return
    engine = make_engine(request.getfixturevalue("postgres_url"))
    upgrade(engine)
    try:
        with open_world(engine) as opened:
            opened.refresh()
            yield opened
    finally:
        engine.dispose()


def _digests_on(world: World, *channel_ids: str) -> list[DigestConfig]:
    configs = []
    for channel_id in channel_ids:
        world.run(digest_command.COMMAND, "on monday 09:00 UTC", channel_id=channel_id)
        config = digest_schedule.get(world.engine, Channel(TEAM, channel_id))
        assert config is not None
        configs.append(config)
    return configs


def test_a_digest_is_one_claim_and_one_record(world: World) -> None:
    world.add_channel(TEAM, "C2")
    first, second = _digests_on(world, CHANNEL, "C2")
    world.clock.advance(MONDAY_9_UTC)
    snapshot = world.reader.latest()
    sender = world.runtime.sender()
    for config in (first, second):
        body = world.runtime.digests.payload(snapshot, config.last_snapshot_id, None)
        period = config.period(config.slot_before(world.clock.now()))
        with Transactions(world.engine) as counted:
            attempt = sender.send_new(
                config.channel, delivery.DIGEST, period, body, snapshot_id=snapshot.id
            )
        assert attempt.outcome == SENT
        assert (counted.begun, counted.checkouts, counted.commits) == (2, 2, 2)
    # The whole job writes nothing else: building the digest only reads.
    world.clock.advance(timedelta(days=7))
    for config in digest_schedule.scheduled(world.engine):
        with Transactions(world.engine) as counted:
            report = dispatch.send_digest(world.runtime, config, scheduled=True)
        assert report.outcome == SENT
        assert counted.commits == 2
    assert len(world.posts()) == len(world.posts("C2")) == 2


def test_a_digest_sent_already_is_one_transaction(world: World) -> None:
    (config,) = _digests_on(world, CHANNEL)
    world.clock.advance(MONDAY_9_UTC)
    assert dispatch.send_digest(world.runtime, config, scheduled=True).outcome == SENT
    sender = world.runtime.sender()
    period = config.period(config.slot_before(world.clock.now()))
    with Transactions(world.engine) as counted:
        attempt = sender.send_new(config.channel, delivery.DIGEST, period, {"text": "again"})
    assert attempt.outcome == DONE
    assert (counted.begun, counted.checkouts) == (1, 1)
    assert len(world.posts()) == 1


@pytest.mark.parametrize(
    ("fault", "outcome"), [("not_in_channel", FAILED), ("http_503", RETRY), ("429", SENT)]
)
def test_a_failed_post_is_still_one_claim_and_one_record(
    world: World, fault: str, outcome: str
) -> None:
    (config,) = _digests_on(world, CHANNEL)
    if fault == "not_in_channel":
        world.slack.add_channel(TEAM, CHANNEL, member=False)
    elif fault == "http_503":
        world.slack.fail_http("chat.postMessage", 503)
    else:
        world.slack.rate_limit("chat.postMessage", retry_after=0)
    world.clock.advance(MONDAY_9_UTC)
    with Transactions(world.engine) as counted:
        attempt = world.runtime.sender().send_new(
            config.channel, delivery.DIGEST, "2026-01-05", {"text": "hello"}
        )
    assert attempt.outcome == outcome
    assert (counted.begun, counted.checkouts, counted.commits) == (2, 2, 2)


def test_the_failure_that_pauses_a_channel_is_recorded_in_the_same_transaction(
    world: World,
) -> None:
    channel = world.add_channel(TEAM, "C-GONE", member=False)
    world.run(subscribe.COMMAND, "deepseek-ai", channel_id=channel.channel_id)
    (config,) = _digests_on(world, channel.channel_id)
    sender = world.runtime.sender()
    pending = delivery.Pending(channel, delivery.ALERT, "snapshot-0", {"text": "waiting"})
    with world.engine.begin() as connection:
        delivery.enqueue(connection, [pending], world.clock.now())
    for week in range(3):
        with Transactions(world.engine) as counted:
            attempt = sender.send_new(channel, delivery.DIGEST, f"week-{week}", {"text": "hi"})
        assert attempt.outcome == FAILED
        assert attempt.paused == (week == 2)
        assert (counted.begun, counted.commits) == (2, 2)
    paused = digest_schedule.get(world.engine, config.channel)
    assert paused is not None
    assert paused.paused_reason is not None
    (sub,) = subscriptions.for_channel(world.engine, channel)
    assert sub.paused
    assert delivery.counts(world.engine) == {delivery.FAILED: 4}  # the pending alert too


def test_alerts_are_one_claim_per_batch_and_one_record_each(world: World) -> None:
    channel_ids = ["C-A", "C-B", "C-C"]
    for channel_id in channel_ids:
        world.add_channel(TEAM, channel_id)
        world.run(subscribe.COMMAND, "deepseek-ai", channel_id=channel_id)
    jobs.alerts_job(runtime=world.runtime)  # the watermark: nothing is news yet
    world.clock.advance(timedelta(hours=6))
    world.release("deepseek-ai/DeepSeek-V4", downloads=10_000)
    world.refresh()
    subs = subscriptions.active(world.engine)
    planned = alerts.plan(world.reader, world.engine, subs, world.settings.share_alert_pp)
    with Transactions(world.engine) as enqueued:
        added = alerts.enqueue(world.engine, planned, world.registry, world.clock.now())
    assert added == 3
    assert (enqueued.begun, enqueued.commits) == (1, 1)
    with Transactions(world.engine) as counted:
        attempts = world.runtime.sender().send_due()
    assert [a.outcome for a in attempts] == [SENT] * 3
    assert (counted.begun, counted.checkouts, counted.commits) == (1 + 3, 1 + 3, 1 + 3)
    assert all(len(world.posts(channel_id)) == 1 for channel_id in channel_ids)
