"""A real ``hubpulse serve`` in Socket Mode under the faults the HTTP mode is tested with.

The process connects to ``FakeSocketMode`` (in front of a ``FakeSlack``); its PostgreSQL sits
behind ``FaultProxy``. Whatever the database and Slack do, every envelope is acknowledged
within Slack's 3 s; with the database refusing the person hears that the data store is
unavailable; with ``chat.postMessage`` or the ``response_url`` answering 429 or 5xx for a
short while, the answer is retried and arrives exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.slack.running import DATA_STORE_UNAVAILABLE
from tests.fakes.slack import Call, FakeSlack
from tests.fakes.socket_mode import FakeSocketMode
from tests.faults.proxy import FaultProxy
from tests.slack_harness import (
    ACK_LIMIT_SECONDS,
    APP_TOKEN,
    BOT_TOKEN,
    CHANNEL,
    command_fields,
)

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30.0
"""How long an answer may take to arrive (generous: slow CI machines)."""


class SocketServe:
    """``hubpulse serve --no-scheduler`` in Socket Mode, its log drained into ``log``."""

    def __init__(self, front: FakeSocketMode, database_url: str) -> None:
        env = {
            **os.environ,
            "HUBPULSE_DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": front.api_url,
            "PYTHONPATH": str(ROOT),
        }
        self.log: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import run; run()", "serve", "--no-scheduler"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=WAIT)


@pytest.fixture
def serving(
    fake: FakeSlack, world: str, proxy: FaultProxy
) -> Iterator[tuple[FakeSocketMode, SocketServe]]:
    with FakeSocketMode(fake, APP_TOKEN) as front:
        server = SocketServe(front, proxy.url(world))
        try:
            front.wait_connected(WAIT)
            yield front, server
            assert server.stop() == 0, "".join(server.log)[-3000:]
        finally:
            if server.process.poll() is None:
                server.process.kill()
                server.process.wait()
        assert "Traceback" not in "".join(server.log)


def ask(front: FakeSocketMode, fake: FakeSlack, text: str) -> str:
    """Send ``/share text`` over the socket; assert it is acknowledged in time; return the
    response URL the answer goes to."""
    url = fake.response_url()
    sent = time.monotonic()
    envelope = front.send_envelope(
        "slash_commands", command_fields("/share", text, response_url=url)
    )
    ack = front.wait_for_ack(envelope, WAIT)
    assert time.monotonic() - sent < ACK_LIMIT_SECONDS
    assert ack["envelope_id"] == envelope
    return url


def to(url: str) -> Any:
    rid = url.rsplit("/", 1)[-1]
    return lambda call: call.method == "response_url" and call.path.endswith(rid)


def delivered(fake: FakeSlack, matches: Any) -> list[Call]:
    """The successful calls ``matches`` picks, once there is one."""
    fake.wait_for(lambda calls: any(matches(c) and c.ok for c in calls), WAIT)
    return [c for c in fake.calls if matches(c) and c.ok]


def public_answer(call: Call) -> bool:
    return call.method == "chat.postMessage" and "China" in str(call.params.get("text", ""))


def test_socket_mode_acknowledges_and_explains_when_the_database_refuses(
    serving: tuple[FakeSocketMode, SocketServe], fake: FakeSlack, proxy: FaultProxy
) -> None:
    front, _ = serving
    url = ask(front, fake, "china")
    [answer] = delivered(fake, to(url))
    assert "China" in answer.params["text"]

    proxy.refuse()
    url = ask(front, fake, "china")
    [told] = delivered(fake, to(url))
    assert told.params["text"] == DATA_STORE_UNAVAILABLE
    assert told.params["response_type"] == "ephemeral"

    # The database refusing and Slack failing at once: still acknowledged, still told, once.
    fake.fail_http("response_url", 502)
    url = ask(front, fake, "china")
    [told] = delivered(fake, to(url))
    assert told.params["text"] == DATA_STORE_UNAVAILABLE
    assert [c.status for c in fake.calls if to(url)(c)] == [502, 200]

    proxy.recover()
    url = ask(front, fake, "china")
    [answer] = delivered(fake, to(url))
    assert "China" in answer.params["text"]


def test_socket_mode_answers_are_retried_through_a_short_slack_outage(
    serving: tuple[FakeSocketMode, SocketServe], fake: FakeSlack
) -> None:
    front, _ = serving
    # The response URL answers 503 twice, then takes the answer: it arrives once.
    fake.fail_http("response_url", 503, times=2)
    url = ask(front, fake, "china")
    [answer] = delivered(fake, to(url))
    assert "China" in answer.params["text"]
    tries = [c.status for c in fake.calls if to(url)(c)]
    assert tries == [503, 503, 200], tries

    # A public answer: chat.postMessage rate-limited, then a 5xx, then accepted: posted once.
    fake.rate_limit("chat.postMessage", retry_after=1)
    fake.fail_http("chat.postMessage", 503)
    ask(front, fake, "china public")
    [posted] = delivered(fake, public_answer)
    assert posted.params["channel"] == CHANNEL
    statuses = [c.status for c in fake.calls_to("chat.postMessage")]
    assert statuses == [429, 503, 200], statuses
    assert len(fake.messages[CHANNEL]) == 1
