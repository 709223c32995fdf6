"""Answers when Slack is busy, when the request is too old, and when the database is gone:
the real app (``SlackHarness``) against ``FakeSlack``, on SQLite and behind ``FaultProxy``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.answers.message import Answer
from bot.ops import metrics
from bot.slack.replies import SLACK_BUSY
from bot.slack.running import DATA_STORE_UNAVAILABLE
from bot.slackapi.clients import RESPONSE_URL_LIFETIME
from bot.store.engine import make_engine, upgrade
from commands.base import Command, Context
from tests.fakes.slack import Call, FakeSlack
from tests.faults.proxy import FaultProxy
from tests.slack_harness import (
    ACK_LIMIT_SECONDS,
    CHANNEL,
    SlackHarness,
    store_fixture_snapshots,
)

WAIT = 20.0


class SlowClock:
    """Set by the test: how far the harness clock moves while the probe command runs."""

    harness: SlackHarness | None = None
    advance = timedelta(0)


def slow_run(text: str, context: Context) -> Answer:
    """A command that takes ``SlowClock.advance`` (on the harness clock) to answer."""
    assert SlowClock.harness is not None
    SlowClock.harness.clock.advance(SlowClock.advance)
    snapshot = context.reader.latest()
    return Answer(text=f"slow answer from snapshot {snapshot.id}", in_channel="public" in text)


SLOW = Command(
    name="/slow", summary="A slow command", usage="/slow", examples=("/slow",), run=slow_run
)


@pytest.fixture
def harness(fake: FakeSlack, sqlite_engine: Engine) -> Iterator[SlackHarness]:
    store_fixture_snapshots(sqlite_engine)
    with SlackHarness(fake, sqlite_engine, commands=[SLOW]) as running:
        SlowClock.harness, SlowClock.advance = running, timedelta(0)
        fake.clear_calls()
        yield running


def answers(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method in ("response_url", "chat.postMessage") and c.ok]


def count(outcome: str) -> float:
    return metrics.sample("hubpulse_answers_total", {"outcome": outcome}) or 0.0


def counted(outcome: str, expected: float) -> bool:
    """Whether the answer counter reaches ``expected`` (it follows Slack's reply, on the
    listener's thread, so it may lag the call the fake recorded)."""
    deadline = time.monotonic() + WAIT
    while count(outcome) < expected and time.monotonic() < deadline:
        time.sleep(0.01)  # polling a condition
    return count(outcome) == expected


def test_a_public_answer_slack_will_not_take_comes_privately(
    harness: SlackHarness, fake: FakeSlack
):
    fallback_before = count("fallback")
    fake.fail("chat.postMessage", "service_unavailable")
    reply = harness.post_command("/slow", "public")
    assert reply.status == 200
    (answer,) = answers(fake.wait_for(lambda calls: bool(answers(calls)), WAIT))
    assert answer.method == "response_url"
    assert answer.params["response_type"] == "ephemeral"
    assert answer.params["text"].startswith(SLACK_BUSY)
    assert "slow answer from snapshot" in answer.params["text"]
    assert fake.messages.get(CHANNEL, []) == []
    assert counted("fallback", fallback_before + 1)


def test_a_response_url_outage_is_retried_and_the_answer_arrives_once(
    harness: SlackHarness, fake: FakeSlack
):
    retries_before = metrics.sample("hubpulse_answer_retries_total") or 0.0
    fake.fail_http("response_url", 503, times=2)
    harness.post_command("/slow", "")
    calls = fake.wait_for(lambda calls: bool(answers(calls)), WAIT)
    assert [c.status for c in calls if c.method == "response_url"] == [503, 503, 200]
    assert len(answers(calls)) == 1
    assert (metrics.sample("hubpulse_answer_retries_total") or 0.0) >= retries_before + 2


def test_a_rate_limited_channel_post_is_posted_once(harness: SlackHarness, fake: FakeSlack):
    fake.rate_limit("chat.postMessage", retry_after=1, times=2)
    harness.post_command("/slow", "public")
    calls = fake.wait_for(lambda calls: bool(answers(calls)), WAIT)
    assert [c.status for c in calls if c.method == "chat.postMessage"] == [429, 429, 200]
    assert len(fake.messages[CHANNEL]) == 1


def test_an_answer_past_the_response_url_lifetime_is_not_sent(
    harness: SlackHarness, fake: FakeSlack
):
    SlowClock.advance = RESPONSE_URL_LIFETIME + timedelta(seconds=1)
    harness.post_command("/slow", "")
    dropped = threading.Event()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "past the response_url's lifetime" in record.getMessage():
                dropped.set()

    watch = Watch()
    logging.getLogger("bot.slack.running").addHandler(watch)
    try:
        assert dropped.wait(WAIT)
    finally:
        logging.getLogger("bot.slack.running").removeHandler(watch)
    SlowClock.advance = timedelta(0)
    harness.post_command("/slow", "")  # a later request: answered
    calls = fake.wait_for(lambda calls: bool(answers(calls)), WAIT)
    assert len(answers(calls)) == 1


@pytest.fixture
def behind_proxy(fake: FakeSlack, postgres_url: str) -> Iterator[tuple[SlackHarness, FaultProxy]]:
    with FaultProxy(("127.0.0.1", 5432)) as proxy:
        engine = make_engine(proxy.url(postgres_url))
        upgrade(engine)
        store_fixture_snapshots(engine)
        with SlackHarness(fake, engine, commands=[SLOW]) as running:
            SlowClock.harness, SlowClock.advance = running, timedelta(0)
            fake.clear_calls()
            yield running, proxy
        engine.dispose()


@pytest.mark.parametrize("fault", ["refuse", "hang"])
def test_a_database_outage_is_explained_in_one_line(
    behind_proxy: tuple[SlackHarness, FaultProxy], fake: FakeSlack, fault: str
):
    harness, proxy = behind_proxy
    unavailable_before = metrics.sample(
        "hubpulse_commands_total", {"command": "/slow", "outcome": "store_unavailable"}
    )
    getattr(proxy, fault)()
    reply = harness.post_command("/slow", "")
    assert reply.status == 200
    assert reply.seconds < ACK_LIMIT_SECONDS
    (told,) = answers(fake.wait_for(lambda calls: bool(answers(calls)), WAIT))
    assert told.params["text"] == DATA_STORE_UNAVAILABLE
    assert told.params["response_type"] == "ephemeral"
    health = harness.get("/healthz")
    assert (health.status, health.json()["status"]) == (503, "database_unavailable")
    after = metrics.sample(
        "hubpulse_commands_total", {"command": "/slow", "outcome": "store_unavailable"}
    )
    assert (after or 0) == (unavailable_before or 0) + 1

    proxy.recover()
    fake.clear_calls()
    harness.post_command("/slow", "")
    (answer,) = answers(fake.wait_for(lambda calls: bool(answers(calls)), WAIT))
    assert answer.params["text"].startswith("slow answer from snapshot")
