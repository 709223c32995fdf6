"""The delivery ledger against Slack's failures: nothing lost, nothing posted twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.channels import digest_schedule, subscriptions
from bot.channels import ledger as delivery
from bot.channels.channel import Channel
from bot.delivery.poster import SlackPoster
from bot.delivery.sender import BUSY, FAILED, RETRY, SENT, Sender
from bot.jobs import send as dispatch
from bot.slackapi.clients import make_client
from commands import digest as digest_command
from commands import subscribe
from tests.hubworld import CHANNEL, TEAM, World, installed_world

MONDAY_9_UTC = timedelta(hours=9)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with installed_world(tmp_path) as opened:
        yield opened


def _digest_on(world: World, channel: Channel) -> None:
    world.run(
        digest_command.COMMAND,
        "on monday 09:00 UTC",
        team_id=channel.team_id,
        channel_id=channel.channel_id,
    )


def _send_all(world: World) -> dict[str, dispatch.DigestReport]:
    return {r.channel.channel_id: r for r in dispatch.send_digests(world.runtime)}


def _message(text: str = "hello") -> dict[str, Any]:
    return {"text": text, "blocks": []}


CHANNEL_PROBLEMS = {
    "not_in_channel": {"member": False},
    "is_archived": {"archived": True},
    "channel_not_found": None,  # the channel does not exist for the bot
}


@pytest.mark.parametrize("error", sorted(CHANNEL_PROBLEMS))
def test_a_broken_channel_is_recorded_and_the_others_still_get_theirs(
    world: World, error: str
) -> None:
    healthy = world.add_channel(TEAM, "C-OK")
    options = CHANNEL_PROBLEMS[error]
    broken = (
        world.add_channel(TEAM, "C-BROKEN", **options)
        if options is not None
        else Channel(TEAM, "C-BROKEN")
    )
    for channel in (broken, healthy):
        _digest_on(world, channel)
    world.clock.advance(MONDAY_9_UTC)
    reports = _send_all(world)
    assert reports["C-BROKEN"].outcome == FAILED
    assert reports["C-BROKEN"].detail == error
    assert reports["C-OK"].outcome == SENT
    assert len(world.posts("C-OK")) == 1
    config = digest_schedule.get(world.engine, broken)
    assert config is not None
    assert config.failures == 1
    assert config.last_error == error
    assert config.last_result is not None
    assert error in config.last_result
    status = world.run(digest_command.COMMAND, "status", channel_id="C-BROKEN").text
    assert error in status
    assert "1 failed delivery" in status


@pytest.mark.parametrize("error", ["account_inactive", "invalid_auth", "token_revoked"])
def test_a_broken_workspace_is_recorded_and_other_workspaces_still_get_theirs(
    world: World, error: str
) -> None:
    token = world.add_workspace("T0")
    other = world.add_channel("T0", "C-T0")
    _digest_on(world, other)
    _digest_on(world, Channel(TEAM, CHANNEL))
    if error == "token_revoked":
        world.slack.revoke(token)
    elif error == "invalid_auth":
        world.tokens["T0"] = "xoxb-not-a-token-slack-knows"
    else:
        world.slack.fail("chat.postMessage", error)  # T0 comes first: its post gets it
    world.clock.advance(MONDAY_9_UTC)
    reports = {r.channel.team_id: r for r in dispatch.send_digests(world.runtime)}
    assert reports["T0"].outcome == FAILED
    assert reports["T0"].detail == error
    assert reports[TEAM].outcome == SENT
    config = digest_schedule.get(world.engine, other)
    assert config is not None
    assert config.last_error == error


def test_repeated_failures_pause_the_channel_and_status_says_so(world: World) -> None:
    channel = world.add_channel(TEAM, "C-GONE", member=False)
    world.run(subscribe.COMMAND, "deepseek-ai", channel_id=channel.channel_id)
    _digest_on(world, channel)
    world.clock.advance(MONDAY_9_UTC)
    for week in range(3):
        report = _send_all(world)["C-GONE"]
        assert report.outcome == FAILED, week
        world.clock.advance(timedelta(days=7))
    config = digest_schedule.get(world.engine, channel)
    assert config is not None
    assert config.paused_reason is not None
    assert "not_in_channel" in config.paused_reason
    status = world.run(digest_command.COMMAND, "status", channel_id="C-GONE").text
    assert "Paused" in status
    assert "not a member" in status
    (sub,) = subscriptions.for_channel(world.engine, channel)
    assert sub.paused
    assert digest_schedule.scheduled(world.engine) == []  # no job is kept for it
    # Inviting the bot and turning the digest on again resumes it.
    world.slack.add_channel(TEAM, "C-GONE", member=True)
    _digest_on(world, channel)
    assert _send_all(world)["C-GONE"].outcome == SENT


def test_a_429_waits_for_retry_after_then_posts_once(world: World) -> None:
    _digest_on(world, Channel(TEAM, CHANNEL))
    world.slack.rate_limit("chat.postMessage", retry_after=0)
    world.clock.advance(MONDAY_9_UTC)
    assert _send_all(world)[CHANNEL].outcome == SENT
    calls = world.slack.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert len(world.posts()) == 1


def test_a_slack_outage_leaves_the_delivery_pending_until_slack_is_back(world: World) -> None:
    _digest_on(world, Channel(TEAM, CHANNEL))
    world.slack.fail_http("chat.postMessage", 503, times=2)
    world.clock.advance(MONDAY_9_UTC)
    assert _send_all(world)[CHANNEL].outcome == RETRY
    assert delivery.counts(world.engine) == {delivery.PENDING: 1}
    assert dispatch.retry_due(world.runtime) == []  # not due yet: back-off
    world.clock.advance(timedelta(minutes=2))
    assert [a.outcome for a in dispatch.retry_due(world.runtime)] == [RETRY]
    world.clock.advance(timedelta(minutes=10))
    assert [a.outcome for a in dispatch.retry_due(world.runtime)] == [SENT]
    world.clock.advance(timedelta(hours=1))
    assert dispatch.retry_due(world.runtime) == []
    assert _send_all(world)[CHANNEL].outcome == dispatch.SENT_ALREADY
    assert len(world.posts()) == 1
    config = digest_schedule.get(world.engine, Channel(TEAM, CHANNEL))
    assert config is not None
    assert config.failures == 0
    assert config.last_result == "sent"


def test_an_unreachable_slack_is_an_outage_not_a_channel_problem(world: World) -> None:
    world.runtime.poster = SlackPoster(
        lambda channel: "xoxb-x", lambda token: make_client("http://127.0.0.1:9/api/", token)
    )
    _digest_on(world, Channel(TEAM, CHANNEL))
    world.clock.advance(MONDAY_9_UTC)
    report = _send_all(world)[CHANNEL]
    assert report.outcome == RETRY
    assert "URLError" in report.detail
    config = digest_schedule.get(world.engine, Channel(TEAM, CHANNEL))
    assert config is not None
    assert config.failures == 0


def test_a_delivery_slack_never_takes_is_given_up_after_two_days(world: World) -> None:
    sender = world.runtime.sender()
    world.slack.fail_http("chat.postMessage", 503, times=1000)
    attempt = sender.send_new(Channel(TEAM, CHANNEL), delivery.ALERT, "snapshot-x", _message())
    assert attempt.outcome == RETRY
    world.clock.advance(timedelta(days=2, minutes=1))
    assert [a.outcome for a in dispatch.retry_due(world.runtime)] == [FAILED]
    assert delivery.counts(world.engine) == {delivery.FAILED: 1}


class Killed(BaseException):
    """The process dies (SIGKILL) between claiming a delivery and posting it."""


class DiesBeforePosting:
    def post(self, channel: Channel, message: dict[str, Any]) -> str:
        raise Killed

    def upload(self, channel: Channel, png: bytes, title: str, thread_ts: str) -> None:
        raise AssertionError("never reached")


def test_a_process_killed_between_claim_and_post_is_retried_not_lost_not_doubled(
    world: World,
) -> None:
    _digest_on(world, Channel(TEAM, CHANNEL))
    world.clock.advance(MONDAY_9_UTC)
    dying = Sender(world.engine, DiesBeforePosting(), world.clock)
    config = digest_schedule.get(world.engine, Channel(TEAM, CHANNEL))
    assert config is not None
    with pytest.raises(Killed):
        dispatch.send_digest(world.runtime, config, scheduled=True, sender=dying)
    assert delivery.counts(world.engine) == {delivery.CLAIMED: 1}
    # Another process (or the restarted one) does not take a fresh claim...
    assert _send_all(world)[CHANNEL].outcome == BUSY
    assert dispatch.retry_due(world.runtime) == []
    assert world.posts() == []
    # ...but one that has gone stale is retried, once.
    world.clock.advance(delivery.STALE_CLAIM + timedelta(seconds=1))
    assert [a.outcome for a in dispatch.retry_due(world.runtime)] == [SENT]
    assert dispatch.retry_due(world.runtime) == []
    assert _send_all(world)[CHANNEL].outcome == dispatch.SENT_ALREADY
    assert len(world.posts()) == 1


def test_claims_race_and_exactly_one_sender_wins(engine: Engine) -> None:
    from bot.core.clock import FrozenClock
    from tests.hubworld import START

    clock = FrozenClock(START)
    channel = Channel(TEAM, CHANNEL)
    winners: list[str] = []
    barrier = threading.Barrier(8)

    def claim(claimer: str) -> None:
        barrier.wait()
        got = delivery.claim_new(
            engine, channel, delivery.DIGEST, "2026-01-05", _message(), clock.now(), claimer
        )
        if got.won is not None:
            winners.append(claimer)

    threads = [threading.Thread(target=claim, args=(f"sender-{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    found = delivery.find(engine, channel, delivery.DIGEST, "2026-01-05")
    assert found is not None
    assert found.claimed_by == winners[0]
    assert found.attempts == 1
    # The stale claim is taken over by exactly one of several retrying senders.
    clock.advance(delivery.STALE_CLAIM * 2)
    takers = [
        delivery.claim_new(
            engine, channel, delivery.DIGEST, "2026-01-05", _message(), clock.now(), f"retry-{i}"
        )
        for i in range(3)
    ]
    assert [t.won is not None for t in takers] == [True, False, False]


def test_each_message_carries_its_ledger_key(world: World) -> None:
    world.runtime.sender().send_new(
        Channel(TEAM, CHANNEL), delivery.ALERT, "snapshot-7", _message()
    )
    (call,) = world.slack.calls_to("chat.postMessage")
    metadata = call.params["metadata"]
    assert metadata["event_type"] == "hubpulse_delivery"
    assert metadata["event_payload"]["key"] == f"{TEAM}/{CHANNEL}/alert/snapshot-7"
