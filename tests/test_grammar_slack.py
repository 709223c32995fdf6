"""The GitHub-app grammar end to end: signed slash commands over real HTTP to the real Bolt
app, answers and posts asserted at the fake Slack, rows asserted in the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.channels import digest_schedule, subscriptions
from bot.channels.channel import Channel
from bot.channels.subscriptions import EVERY_FEATURE, ORG, RELEASES, Target
from bot.core.registry import load_registry
from bot.ingest.demo import DEMO_SOURCE
from bot.model.crawl import Crawl
from bot.model.records import to_record
from bot.store.writer import store_crawl
from commands import all_commands
from tests.fakes.slack import Call, FakeSlack
from tests.slack_harness import (
    ACK_LIMIT_SECONDS,
    BOT_TOKEN,
    CHANNEL,
    NOW,
    TEAM,
    USER,
    SlackHarness,
    fixture_records,
    share_action_payload,
    store_fixture_snapshots,
)

HERE = Channel(TEAM, CHANNEL)
QWEN = Target(ORG, "Qwen")
WAIT = 20.0


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        server.add_workspace(TEAM, BOT_TOKEN, team_name="Acme", bot_user_id="UBOT")
        server.add_channel(TEAM, CHANNEL, name="general")
        server.add_user(TEAM, USER, tz="Europe/Berlin", name="ada")
        yield server


@pytest.fixture
def harness(fake: FakeSlack, sqlite_engine: Engine) -> Iterator[SlackHarness]:
    store_fixture_snapshots(sqlite_engine)
    with SlackHarness(fake, sqlite_engine) as running:
        fake.clear_calls()
        yield running


def command(harness: SlackHarness, fake: FakeSlack, name: str, text: str) -> Call:
    """Post a signed slash command; the one answer or post it produced."""
    fake.clear_calls()
    reply = harness.post_command(name, text)
    assert reply.status == 200, reply.body
    assert reply.seconds < ACK_LIMIT_SECONDS
    sent = fake.wait_for(
        lambda calls: any(c.method in ("response_url", "chat.postMessage") for c in calls),
        timeout=WAIT,
    )
    (answer,) = [c for c in sent if c.method in ("response_url", "chat.postMessage")]
    return answer


def button_value(call: Call) -> dict[str, Any]:
    for block in call.params.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("action_id") == "hubpulse_share":
                return dict(json.loads(element["value"]))
    raise AssertionError("no Share in channel button")


def test_hubpulse_share_answers_as_share_does(harness: SlackHarness, fake: FakeSlack) -> None:
    direct = command(harness, fake, "/share", "qwen")
    namespaced = command(harness, fake, "/hubpulse", "share qwen")
    assert namespaced.method == "response_url"
    assert namespaced.params["response_type"] == "ephemeral"
    assert namespaced.params["text"] == direct.params["text"]
    assert "Qwen" in namespaced.params["text"]
    assert button_value(namespaced) == {"command": "/hubpulse", "text": "share qwen"}

    fake.clear_calls()  # the Share button reruns it under /hubpulse and posts it
    payload = share_action_payload(
        json.dumps(button_value(namespaced)), response_url=fake.response_url("share")
    )
    assert harness.post_action(payload).status == 200
    sent = fake.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls))
    (post,) = [c for c in sent if c.method == "chat.postMessage"]
    assert post.params["text"] == direct.params["text"]


def test_hubpulse_lineage_and_public(harness: SlackHarness, fake: FakeSlack) -> None:
    lineage = command(harness, fake, "/hubpulse", "lineage qwen")
    assert lineage.params["text"] == command(harness, fake, "/lineage", "qwen").params["text"]
    public = command(harness, fake, "/hubpulse", "share qwen public")
    assert public.method == "chat.postMessage"
    assert public.params["channel"] == CHANNEL


def test_subscribe_two_features_then_drop_one_through_the_namespace(
    harness: SlackHarness, fake: FakeSlack, sqlite_engine: Engine
) -> None:
    confirmed = command(harness, fake, "/hubpulse", "subscribe qwen releases share")
    assert confirmed.method == "chat.postMessage"
    assert confirmed.params["channel"] == CHANNEL
    assert (
        "Subscribed this channel to *Qwen* (org `Qwen`): new releases and share moves."
        in (confirmed.params["text"])
    )
    subscription = subscriptions.get(sqlite_engine, HERE, QWEN)
    assert subscription is not None
    assert subscription.features == EVERY_FEATURE

    dropped = command(harness, fake, "/hubpulse", "unsubscribe qwen share")
    assert dropped.method == "chat.postMessage"
    assert dropped.params["text"].startswith(
        "Removed share moves from this channel's subscription to *Qwen* (org `Qwen`): "
        "it still gets new releases."
    )
    subscription = subscriptions.get(sqlite_engine, HERE, QWEN)
    assert subscription is not None
    assert subscription.features == frozenset({RELEASES})

    listed = command(harness, fake, "/hubpulse", "subscriptions")
    assert "*Qwen* (org `Qwen`): new releases · added by" in listed.params["text"]


def test_digest_on_friday_9am(
    harness: SlackHarness, fake: FakeSlack, sqlite_engine: Engine
) -> None:
    confirmed = command(harness, fake, "/digest", "on friday 9am")
    assert confirmed.method == "chat.postMessage"
    assert "Fridays at 09:00 (Europe/Berlin)" in confirmed.params["text"]  # the user's zone
    config = digest_schedule.get(sqlite_engine, HERE)
    assert config is not None
    assert config.spec == "fri 09:00 Europe/Berlin"


def test_bad_arguments_answer_privately_with_the_usage(
    harness: SlackHarness, fake: FakeSlack, sqlite_engine: Engine
) -> None:
    refused = command(harness, fake, "/digest", "on funday")
    assert refused.method == "response_url"
    assert refused.params["response_type"] == "ephemeral"
    assert refused.params["text"].startswith(
        "`funday` is not a day (`monday`, `fri`...) or an IANA timezone (`Europe/Berlin`). "
        "Usage: `/digest on [day] [time] [timezone] | off | preview | status`"
    )
    assert digest_schedule.get(sqlite_engine, HERE) is None

    unknown = command(harness, fake, "/hubpulse", "shares qwen")
    verbs = ", ".join(f"`{c.name[1:]}`" for c in all_commands() if c.name != "/hubpulse")
    assert unknown.params["text"].startswith(
        f"`shares` is not a hubpulse command; the commands are {verbs}."
    )
    assert "\n" not in unknown.params["text"]


def test_app_home_names_the_namespace_and_the_demo_data(
    harness: SlackHarness, fake: FakeSlack, sqlite_engine: Engine
) -> None:
    def home() -> str:
        fake.clear_calls()
        assert harness.post_event({"type": "app_home_opened", "user": USER}).status == 200
        fake.wait_for(lambda calls: any(c.method == "views.publish" for c in calls))
        return json.dumps(fake.home_views[USER]["blocks"], ensure_ascii=False)

    real = home()
    assert "Every command also works after `/hubpulse`" in real
    assert "`/hubpulse share qwen`" in real
    assert "Illustrative demo data" not in real

    records = {r.id: r for r in (to_record(raw) for raw in fixture_records())}
    registry = load_registry()
    store_crawl(
        sqlite_engine,
        Crawl(records=records, top_ids=sorted(records)),
        registry,
        taken_at=NOW - timedelta(minutes=30),
        finished_at=NOW - timedelta(minutes=29),
        source=DEMO_SOURCE,
        top_n=100,
    )
    assert "Illustrative demo data" in home()
