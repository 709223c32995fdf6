"""Hostile requests and stop signals against a real ``hubpulse serve`` process (HTTP mode).

The server runs as in production, in a subprocess, answering through FakeSlack; what is
measured is what an operator would see: its memory in ``/proc``, its log, its exit code.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from tests.fakes.slack import FakeSlack
from tests.faults.edge import (
    FORM,
    MALFORMED,
    MIB,
    HeldResponseUrl,
    memory_of,
    reset_peak,
    send_body,
)
from tests.slack_harness import (
    ServeProcess,
    command_body,
    http,
    signed_headers,
    store_fixture_snapshots,
)

EVENTS = "/slack/events"


@pytest.fixture
def served(fake: FakeSlack, sqlite_engine: Engine, sqlite_url: str) -> Iterator[ServeProcess]:
    store_fixture_snapshots(sqlite_engine)
    with ServeProcess(fake, sqlite_url) as server:
        yield server


def pid_of(server: ServeProcess) -> int:
    assert server.process is not None
    return server.process.pid


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Until ``condition()`` holds; a test failure if it does not within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.02)


def logged(server: ServeProcess) -> str:
    return "".join(server.log)


def answers(fake: FakeSlack) -> list[str]:
    return [c.params.get("text", "") for c in fake.calls if c.method == "response_url"]


def test_a_20_mib_unsigned_body_is_refused_before_it_is_read(served: ServeProcess):
    pid = pid_of(served)
    log_before = len(logged(served))
    reset_peak(pid)
    before = memory_of(pid)

    status = send_body(served.url, EVENTS, 20 * MIB, {"Content-Type": FORM})

    assert status == 413
    assert memory_of(pid).peak - before.resident < 4 * MIB
    assert served.stop() == 0
    assert len(logged(served)) - log_before < 1024


def test_malformed_requests_get_a_4xx_and_leave_no_traceback(served: ServeProcess):
    statuses = {}
    for name, (body, content_type) in MALFORMED.items():
        signed = http(served.url + EVENTS, data=body, headers=signed_headers(body, content_type))
        unsigned = http(served.url + EVENTS, data=body, headers={"Content-Type": content_type})
        statuses[name] = (signed.status, unsigned.status)
    for stamp in ("abc", "1e10"):
        headers = signed_headers(b"text=x", FORM) | {"X-Slack-Request-Timestamp": stamp}
        statuses[stamp] = (http(served.url + EVENTS, data=b"text=x", headers=headers).status, 400)
    assert served.stop() == 0
    assert {name: s for name, s in statuses.items() if not all(400 <= x < 500 for x in s)} == {}
    assert "Traceback" not in logged(served)
    assert "nope" not in logged(served)


def test_the_same_signed_command_five_times_is_answered_once(served: ServeProcess, fake: FakeSlack):
    body = command_body("/share", "china", response_url=fake.response_url("once"))
    headers = signed_headers(body, FORM)
    replies = [http(served.url + EVENTS, data=body, headers=headers) for _ in range(5)]
    fence = served.post_command("/share", "qwen", fake.response_url("fence"))
    fake.wait_for(lambda calls: len(answers(fake)) >= 2, 30)
    wait_until(lambda: logged(served).count("already seen") == 4)

    assert [r.status for r in replies] == [200] * 5
    assert fence.status == 200
    assert served.stop() == 0
    assert len(answers(fake)) == 2
    assert len([c for c in fake.calls if c.method == "response_url" and "once" in c.path]) == 1


@pytest.mark.parametrize("signals", [1, 2])
def test_a_stop_signal_lets_the_answer_in_flight_finish_then_exits_0(
    served: ServeProcess, signals: int
):
    """SIGTERM (once, or twice at once) while an answer is being posted: the server stops
    taking connections, the answer is delivered, the process exits 0."""
    process = served.process
    assert process is not None
    with HeldResponseUrl() as held:
        assert served.post_command("/share", "china", held.url).status == 200
        assert held.arrived.wait(30)
        for _ in range(signals):
            process.send_signal(signal.SIGTERM)
        wait_until(lambda: "hubpulse stopping" in logged(served))

        assert process.poll() is None
        host, port = served.url.removeprefix("http://").split(":")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((host, int(port)), timeout=5).close()

        held.release()
        assert process.wait(timeout=30) == 0
    (answer,) = held.posts
    assert b"China" in answer
    assert "/share ok" in logged(served)
    assert "Traceback" not in logged(served)


def test_two_signals_at_once_on_an_idle_server_exit_0(served: ServeProcess):
    process = served.process
    assert process is not None
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGINT)
    assert served.stop() == 0
    assert "hubpulse stopped" in logged(served)
    assert "Traceback" not in logged(served)
