"""Socket Mode end to end: the app opens a real WebSocket and answers what arrives on it."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine

from bot.core.clock import FrozenClock
from bot.core.settings import load_settings, slack_mode
from bot.slack.app import build_app
from bot.slack.socket_mode import socket_mode_handler
from tests.fakes.slack import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode
from tests.slack_harness import (
    BOT_TOKEN,
    CHANNEL,
    NOW,
    TEAM,
    USER,
    store_fixture_snapshots,
)

APP_TOKEN = "xapp-1-A0HUBPULSE-1234567890-0123456789abcdef"


def command_payload(command: str, text: str, response_url: str) -> dict[str, Any]:
    return {
        "token": "deprecated-verification-token",
        "team_id": TEAM,
        "team_domain": "acme",
        "channel_id": CHANNEL,
        "channel_name": "general",
        "user_id": USER,
        "user_name": "ada",
        "command": command,
        "text": text,
        "api_app_id": FakeSlack.APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    }


def test_a_slash_command_over_socket_mode(sqlite_engine: Engine, sqlite_url: str):
    store_fixture_snapshots(sqlite_engine)
    with FakeSlack() as fake, FakeSocketMode(fake, APP_TOKEN) as front:
        fake.add_workspace(TEAM, BOT_TOKEN)
        fake.add_channel(TEAM, CHANNEL)
        fake.add_user(TEAM, USER)
        config = load_settings(
            {
                "HUBPULSE_DATABASE_URL": sqlite_url,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_APP_TOKEN": APP_TOKEN,
                "SLACK_API_URL": front.api_url,
            }
        )
        assert slack_mode(config) == "socket"
        app = build_app(config, sqlite_engine, clock=FrozenClock(NOW))
        handler = socket_mode_handler(app, APP_TOKEN)
        handler.connect()
        try:
            front.wait_connected()
            sent = time.perf_counter()
            envelope = front.send_envelope(
                "slash_commands", command_payload("/share", "china", fake.response_url())
            )
            ack = front.wait_for_ack(envelope)
            assert time.perf_counter() - sent < 3
            assert ack == {"envelope_id": envelope}
            calls = fake.wait_for(lambda c: any(x.method == "response_url" for x in c), 20)
            (answer,) = [c for c in calls if c.method == "response_url"]
            assert answer.params["response_type"] == "ephemeral"
            assert "China" in answer.params["text"]

            too_long = front.send_envelope(
                "slash_commands", command_payload("/share", "x" * 5000, fake.response_url())
            )
            refused = front.wait_for_ack(too_long)
            assert refused["payload"]["response_type"] == "ephemeral"
            assert "at most 1,000" in refused["payload"]["text"]
        finally:
            handler.close()
    assert {c.token for c in fake.calls if c.token} == {BOT_TOKEN}
