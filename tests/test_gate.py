"""The HTTP edge in front of Bolt: bounded, signed-first, malformed input a 400, replays ignored.

The real app (real Bolt, real slack_sdk) under the real server (waitress), on loopback, with
requests signed as Slack signs them; the store is SQLite or the real PostgreSQL.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import Engine, create_engine, func, insert, select

from bot.slack.gate import MAX_BODY_BYTES, Refused, SlackGate
from bot.slack.replay_check import ReplayCheck
from bot.store.replay_tables import request_replays
from bot.store.replays import PURGE_EVERY, ReplayStore
from tests.fakes.slack import FakeSlack
from tests.faults.edge import FORM, MALFORMED
from tests.slack_harness import (
    SIGNING_SECRET,
    SlackHarness,
    command_body,
    http,
    signed_headers,
    store_fixture_snapshots,
)

EVENTS = "/slack/events"
MARKER = "BODY-MARKER-7f3a"


@pytest.fixture
def harness(fake: FakeSlack, sqlite_engine: Engine) -> Iterator[SlackHarness]:
    store_fixture_snapshots(sqlite_engine)
    with SlackHarness(fake, sqlite_engine) as running:
        yield running


def answers(fake: FakeSlack) -> list[str]:
    return [c.params.get("text", "") for c in fake.calls if c.method == "response_url"]


def raw_exchange(url: str, head: bytes, body: bytes = b"") -> bytes:
    """Send ``head`` (and ``body``) on a socket; whatever the server answers before closing."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize("name", MALFORMED)
def test_a_signed_malformed_body_is_a_400_without_a_traceback(
    harness: SlackHarness, caplog: pytest.LogCaptureFixture, name: str
):
    body, content_type = MALFORMED[name]
    caplog.set_level(logging.DEBUG)
    reply = harness.post_signed(body, content_type)
    assert reply.status == 400, reply.body
    assert "error" in reply.json()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [("abc", None), ("1e10", None), ("-5", None), ("", None), (None, "v1=abc"), (None, "")],
)
def test_malformed_signature_headers_are_a_400(
    harness: SlackHarness, timestamp: str | None, signature: str | None
):
    body = b"command=%2Fshare&text=qwen"
    headers = signed_headers(body, FORM)
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    reply = http(harness.url + EVENTS, data=body, headers=headers)
    assert reply.status == 400, reply.body


def test_unsigned_wrongly_signed_and_stale_requests_are_a_401(
    harness: SlackHarness, fake: FakeSlack
):
    body = command_body("/share", "qwen", response_url=fake.response_url())
    unsigned = http(harness.url + EVENTS, data=body, headers={"Content-Type": FORM})
    wrong = harness.post_signed(body, FORM, signing_secret="0" * 32)
    stale = harness.post_signed(body, FORM, timestamp=str(int(time.time()) - 600))
    assert [unsigned.status, wrong.status, stale.status] == [401, 401, 401]
    assert answers(fake) == []


def test_a_declared_body_above_the_limit_is_a_413_before_it_is_read(harness: SlackHarness):
    """Only the headers are sent: a server that waited for the body would never answer."""
    head = (
        f"POST {EVENTS} HTTP/1.1\r\nHost: x\r\nContent-Type: {FORM}\r\n"
        f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
    ).encode()
    assert raw_exchange(harness.url, head).startswith(b"HTTP/1.1 413 ")


def test_a_body_of_exactly_the_limit_is_read_and_checked(harness: SlackHarness):
    body = b"text=" + b"a" * (MAX_BODY_BYTES - 5)
    reply = harness.post_signed(body, FORM)
    assert len(body) == MAX_BODY_BYTES
    assert reply.status != 413
    assert reply.status < 500


def test_a_post_without_content_length_is_refused(harness: SlackHarness):
    head = f"POST {EVENTS} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    assert raw_exchange(harness.url, head).startswith(b"HTTP/1.1 411 ")


def test_a_content_length_that_is_not_a_number_is_a_400(harness: SlackHarness):
    head = f"POST {EVENTS} HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n".encode()
    assert raw_exchange(harness.url, head).startswith(b"HTTP/1.1 400 ")


def test_unknown_paths_are_404_and_wrong_methods_405(harness: SlackHarness):
    assert harness.get("/nowhere").status == 404
    assert harness.get("/slack/install").status == 404  # OAuth is off
    wrong = harness.get(EVENTS)
    assert (wrong.status, wrong.headers["allow"]) == (405, "POST")
    assert http(harness.url + "/healthz", data=b"x").status == 405


def test_a_signed_command_sent_again_is_acknowledged_and_ignored(
    fake: FakeSlack, database_url: str, engine: Engine
):
    """Three times the same signed request, then another: two answers, on SQLite and PG."""
    store_fixture_snapshots(engine)
    with SlackHarness(fake, engine) as harness:
        body = command_body("/share", "china", response_url=fake.response_url())
        headers = signed_headers(body, FORM)
        first, *again = [http(harness.url + EVENTS, data=body, headers=headers) for _ in range(3)]
        assert harness.post_command("/share", "qwen").status == 200
        fake.wait_for(lambda calls: len(answers(fake)) >= 2, 30)
    assert first.status == 200
    assert [(r.status, r.body) for r in again] == [(200, b""), (200, b"")]
    assert len(answers(fake)) == 2


def test_a_replay_sent_to_another_replica_is_ignored(fake: FakeSlack, engine: Engine):
    store_fixture_snapshots(engine)
    with SlackHarness(fake, engine) as one, SlackHarness(fake, engine) as two:
        body = command_body("/share", "china", response_url=fake.response_url())
        headers = signed_headers(body, FORM)
        assert http(one.url + EVENTS, data=body, headers=headers).status == 200
        replay = http(two.url + EVENTS, data=body, headers=headers)
        fake.wait_for(lambda calls: len(answers(fake)) >= 1, 30)
    assert (replay.status, replay.body) == (200, b"")
    assert len(answers(fake)) == 1


def test_expired_keys_are_purged_every_hundredth_insert(engine: Engine):
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(request_replays),
            [{"key": "old", "expires_at": now - timedelta(seconds=1)}],
        )
    store = ReplayStore(engine)
    later = now + timedelta(minutes=5)
    assert all(store.first_sighting(f"k{i}", later, now) for i in range(PURGE_EVERY - 1))
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(request_replays)).scalar() == (
            PURGE_EVERY
        )
    assert store.first_sighting("last", later, now)
    assert not store.first_sighting("k1", later, now)
    with engine.connect() as connection:
        keys = set(connection.execute(select(request_replays.c.key)).scalars())
    assert "old" not in keys
    assert len(keys) == PURGE_EVERY


def test_when_the_database_refuses_the_request_is_processed(caplog: pytest.LogCaptureFixture):
    """Failing open: a command is not lost because the replay store cannot be asked."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test")
    check = ReplayCheck(engine)
    with caplog.at_level(logging.WARNING):
        assert check.seen_before("1700000000", "v0=" + "a" * 64, datetime.now(UTC)) is False
    assert "replay check skipped: OperationalError" in caplog.text
    check.close()


def test_when_the_database_hangs_the_check_gives_up(caplog: pytest.LogCaptureFixture):
    """A server that accepts connections and never answers: the check does not wait for it."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        engine = create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{port}/test",
            connect_args={"connect_timeout": 30},
        )
        check = ReplayCheck(engine)
        with caplog.at_level(logging.WARNING):
            seen = check.seen_before("1700000000", "v0=" + "b" * 64, datetime.now(UTC))
        check.close()
    assert seen is False
    assert "the database did not answer within" in caplog.text


def test_nothing_of_a_refused_body_reaches_the_log(
    harness: SlackHarness, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    body = urlencode({"command": "/share", "text": MARKER}).encode()
    http(harness.url + EVENTS, data=body, headers={"Content-Type": FORM})
    harness.post_signed(body, FORM, signing_secret="f" * 32)
    harness.post_signed(body + b"\xff", FORM)
    assert MARKER not in caplog.text
    assert SIGNING_SECRET not in caplog.text


class Unreadable:
    """A request body that fails the test if anything reads it."""

    def read(self, *_args: object) -> bytes:
        raise AssertionError("the body was read")


@pytest.mark.parametrize(
    ("length", "status"),
    [(None, 411), ("", 411), ("12x", 400), ("-1", 400), ("²", 400), (str(MAX_BODY_BYTES + 1), 413)],
)
def test_the_gate_refuses_a_bad_length_under_any_server_without_reading(
    length: str | None, status: int
):
    """waitress refuses most of these itself; the gate does not count on it."""
    environ = {"REQUEST_METHOD": "POST", "wsgi.input": Unreadable()}
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    with pytest.raises(Refused) as refused:
        SlackGate(SIGNING_SECRET).admit(environ)
    assert refused.value.status == status
