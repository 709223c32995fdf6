"""``hubpulse refresh`` as a person runs it: the real CLI, the fake Hub, an SQLite file.

One test lets every retry of huggingface_hub run out (1 + 2 + 4 + 8 + 8 s of real waiting): a
server that keeps failing in the middle of a crawl is the case the command exists to survive.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from huggingface_hub.utils import logging as hf_logging

from bot.cli import main
from bot.cli.refresh import Bars
from bot.core.registry import load_registry
from bot.store.engine import make_engine
from bot.store.reader import Reader
from bot.store.snapshots import COMPLETE, FAILED
from tests.cli_checks import one_line_error
from tests.fakes.hub import FakeHub, make_record

RECORDS = [
    make_record("Qwen/Qwen3-8B", downloads=9000),
    make_record("fan/qwen-tune", downloads=800, parents=["Qwen/Qwen3-8B"]),
    make_record("fan/qwen-tune-GGUF", downloads=700, parents=["fan/qwen-tune"]),
    make_record("deepseek-ai/DeepSeek-V3-Base", downloads=600),
    make_record("Qwen/Qwen4-Preview", downloads=0),
]


@pytest.fixture
def fake_hub() -> Iterator[FakeHub]:
    with FakeHub(RECORDS, page_size=1) as fake:
        yield fake


@pytest.fixture(autouse=True)
def hub_own_stderr() -> Iterator[io.StringIO]:
    """What huggingface_hub's own stderr handler prints: nothing may, since no redaction sees it
    (CliRunner captures only what goes through ``sys.stderr``, not this handler's stream).

    The CLI configures logging for the whole process; it is put back for the next test.
    """
    root, library = logging.getLogger(), hf_logging.get_logger()
    saved = [
        (logger, logger.handlers[:], logger.level, logger.propagate) for logger in (root, library)
    ]
    bypass = io.StringIO()
    streams = [
        (handler, handler.setStream(bypass))
        for handler in library.handlers
        if isinstance(handler, logging.StreamHandler)
    ]
    yield bypass
    for handler, stream in streams:
        if stream is not None:
            handler.setStream(stream)
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, fake_hub: FakeHub) -> str:
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    return sqlite_url


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["refresh", *args], prog_name="hubpulse")


def snapshots(url: str) -> list[tuple[str, str | None]]:
    engine = make_engine(url)
    try:
        return [(s.status, s.error) for s in Reader(engine).snapshots(status=None)]
    finally:
        engine.dispose()


def test_refresh_prints_one_summary_line(env: str) -> None:
    result = run("--top", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1
    assert re.fullmatch(
        r"snapshot 1 complete: 5 models \(top 3 of 3 asked, "
        rf"2 more of {len(load_registry())} registered orgs, "
        r"0 ancestors fetched\), 0 missing parents, 0 cycles, 10,500 downloads in the top N, "
        r"in \d+\.\d s\n",
        result.stdout,
    )
    assert snapshots(env) == [(COMPLETE, None)]


def test_a_server_failing_mid_crawl_exits_2_and_the_previous_snapshot_answers(
    env: str, fake_hub: FakeHub, hub_own_stderr: io.StringIO
) -> None:
    assert run("--top", "3").exit_code == 0
    fake_hub.reset_requests()
    # From page 2 of the top listing on, a maintenance window; its Retry-After of 0 keeps the
    # client's five retries 1 s apart (without it they wait 1, 2, 4, 8 and 8 s).
    fake_hub.fail(status=503, times=1000, after=2, retry_after=0)
    line = one_line_error(run("--top", "3"))
    assert re.fullmatch(
        rf"hubpulse: refresh failed: the Hub at {re.escape(fake_hub.url)} answered HTTP 503 "
        r"\(after retries\) while reading the top-models listing: Service Unavailable; "
        r"the previous snapshot \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\) is still answering",
        line,
    )
    assert [r.status for r in fake_hub.requests] == [200, 200] + [503] * 6
    reason = line.removeprefix("hubpulse: refresh failed: ").split("; the previous")[0]
    assert snapshots(env) == [(FAILED, reason), (COMPLETE, None)]
    assert hub_own_stderr.getvalue() == ""  # nor did huggingface_hub's retry warnings


def test_the_hub_clients_retry_warnings_are_one_line_at_the_default_level(
    env: str, fake_hub: FakeHub, hub_own_stderr: io.StringIO
) -> None:
    fake_hub.fail(status=429, times=1, after=1, retry_after=0)  # the top listing, once
    result = run("--top", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("snapshot 1 complete: 5 models")
    assert result.stdout.count("\n") == 1
    assert re.fullmatch(
        r"\S+ \S+ WARNING bot\.cli\.terminal: held back warnings \(2 from huggingface_hub\), "
        r"HUBPULSE_LOG_LEVEL=DEBUG shows them; the last: "
        r"Rate limited\. Waiting 1\.0s before retry \[Retry 1/5\]\.\n",
        result.stderr,
    )
    assert hub_own_stderr.getvalue() == ""


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_debug_logs_show_the_hub_client_and_never_the_token(
    env: str,
    fake_hub: FakeHub,
    hub_own_stderr: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
    log_format: str,
) -> None:
    token = "hf_" + "x" * 20  # shaped like a Hub token, to be caught by the shape as well
    monkeypatch.setenv("HF_TOKEN", token)
    monkeypatch.setenv("HUBPULSE_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("HUBPULSE_LOG_FORMAT", log_format)
    fake_hub.fail(status=500, times=1, after=1)  # the top listing, once
    result = run("--top", "3")
    assert result.exit_code == 0, result.output
    assert fake_hub.requests
    assert all(r.headers.get("authorization") == f"Bearer {token}" for r in fake_hub.requests)
    # The client's debug lines and retry warnings all reach stderr, through the one handler:
    assert "(authenticated: True)" in result.stderr
    assert "Retrying in 1s [Retry 1/5]." in result.stderr
    assert "refresh: snapshot 1 complete" in result.stderr
    if log_format == "json":
        assert all(json.loads(line) for line in result.stderr.splitlines())
    assert token not in result.stderr
    assert token not in result.stdout
    assert hub_own_stderr.getvalue() == ""


OUTSIDE_LOOPBACK = """
import ipaddress, json, socket, sys

outside = []


def loopback(host):
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def getaddrinfo(host, *args, _real=socket.getaddrinfo, **kwargs):
    if not loopback(host):
        outside.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "refused by the test")
    return _real(host, *args, **kwargs)


def connect(self, address, _real=socket.socket.connect):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not loopback(address[0]):
        outside.append(address[0])
        raise ConnectionRefusedError("refused by the test")
    return _real(self, address)


socket.getaddrinfo = getaddrinfo
socket.socket.connect = connect
try:
    from bot.cli import run

    sys.argv = ["hubpulse", "refresh", "--top", "3"]
    run()
finally:
    with open("outside.json", "w") as out:
        json.dump(outside, out)
"""
"""Runs ``hubpulse refresh`` after making every lookup or connection outside loopback fail and
writing where it went to ``outside.json``."""

TELEMETRY_OFF = frozenset({"HF_HUB_DISABLE_TELEMETRY", "DISABLE_TELEMETRY", "DO_NOT_TRACK"})
"""What would turn huggingface_hub's telemetry off before hubpulse does (conftest sets one)."""


@pytest.mark.parametrize("endpoint_from", ["environment", "dotenv"])
def test_a_refresh_sends_nothing_but_its_own_requests_to_the_endpoint(
    fake_hub: FakeHub, tmp_path: Path, endpoint_from: str
) -> None:
    """A fresh process, with huggingface_hub's telemetry not disabled and no cached agent
    registry: its agent detection would ask ``{ENDPOINT}/api/agent-harnesses`` at the first
    request, ENDPOINT being HF_ENDPOINT as it was when huggingface_hub was imported. From the
    environment that is the fake Hub; from ``.env`` (read later) it is huggingface.co."""
    settings = {"HF_ENDPOINT": fake_hub.url, "HUBPULSE_DATABASE_URL": f"sqlite:///{tmp_path}/h.db"}
    env = {name: value for name, value in os.environ.items() if name not in TELEMETRY_OFF}
    env["HF_HOME"] = str(tmp_path / "hf-home")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    if endpoint_from == "environment":
        env.update(settings)
    else:
        (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    done = subprocess.run(
        [sys.executable, "-c", OUTSIDE_LOOPBACK],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("snapshot 1 complete: 5 models")
    assert json.loads((tmp_path / "outside.json").read_text()) == []
    assert fake_hub.requests
    assert [r.path for r in fake_hub.requests if not r.path.startswith("/api/models")] == []


def test_an_unreachable_hub_exits_2_naming_the_endpoint(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    line = one_line_error(run())
    assert line.startswith(
        f"hubpulse: refresh failed: cannot reach the Hub at http://127.0.0.1:{port}"
    )
    assert "check HF_ENDPOINT" in line
    assert line.endswith("no earlier snapshot is stored, so `hubpulse ask` has nothing to answer")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--top", "0"], "Invalid value for '--top'"),
        (["--top", "many"], "Invalid value for '--top'"),
        (["--bogus"], "No such option '--bogus'"),
        (["extra"], "Got unexpected extra argument (extra)"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(env: str, args: list[str], says: str) -> None:
    line = one_line_error(run(*args))
    assert line.startswith(f"hubpulse: {says}")
    assert line.endswith("(see `hubpulse refresh --help`)")
    assert not Path(env.removeprefix("sqlite:///")).exists()  # nothing was even opened


def test_a_database_that_cannot_be_opened_exits_2(
    monkeypatch: pytest.MonkeyPatch, fake_hub: FakeHub
) -> None:
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    line = one_line_error(run())
    assert "cannot open database" in line
    assert fake_hub.requests == []


def test_progress_bars_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    with Bars(enabled=False) as bars:
        bars.phase("top 3 models", 3)
        bars.advance()
    assert capsys.readouterr().err == ""
    with Bars(enabled=True) as bars:
        bars.phase("top 3 models", 3)
        bars.advance(3)
        bars.phase("ancestors")
    assert "top 3 models: 100%" in capsys.readouterr().err
