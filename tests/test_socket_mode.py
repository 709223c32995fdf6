"""Socket Mode end to end: the app opens a real WebSocket and answers what arrives on it."""

from __future__ import annotations

import time

from sqlalchemy import Engine

from bot.core.clock import FrozenClock
from bot.core.settings import load_settings, slack_mode
from bot.slack.app import build_app
from bot.slack.socket_mode import socket_mode_handler
from tests.fakes.socket_mode import FakeSocketMode
from tests.slack_harness import (
    APP_TOKEN,
    BOT_TOKEN,
    NOW,
    command_fields,
    harness_slack,
    store_fixture_snapshots,
)


def test_a_slash_command_over_socket_mode(sqlite_engine: Engine, sqlite_url: str):
    store_fixture_snapshots(sqlite_engine)
    with harness_slack() as fake, FakeSocketMode(fake, APP_TOKEN) as front:
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
                "slash_commands",
                command_fields("/share", "china", response_url=fake.response_url()),
            )
            ack = front.wait_for_ack(envelope)
            assert time.perf_counter() - sent < 3
            assert ack == {"envelope_id": envelope}
            calls = fake.wait_for(lambda c: any(x.method == "response_url" for x in c), 20)
            (answer,) = [c for c in calls if c.method == "response_url"]
            assert answer.params["response_type"] == "ephemeral"
            assert "China" in answer.params["text"]

            too_long = front.send_envelope(
                "slash_commands",
                command_fields("/share", "x" * 5000, response_url=fake.response_url()),
            )
            refused = front.wait_for_ack(too_long)
            assert refused["payload"]["response_type"] == "ephemeral"
            assert "at most 1,000" in refused["payload"]["text"]
        finally:
            handler.close()
    assert {c.token for c in fake.calls if c.token} == {BOT_TOKEN}
