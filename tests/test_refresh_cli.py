"""``hubpulse refresh`` as a person runs it: the real CLI, the fake Hub, an SQLite file.

One test lets every retry of huggingface_hub run out (1 + 2 + 4 + 8 + 8 s of real waiting): a
server that keeps failing in the middle of a crawl is the case the command exists to survive.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cache import Cache
from bot.cli import main
from bot.cli.refresh import Bars
from bot.db import make_engine
from bot.store import COMPLETE, FAILED
from tests.fakehub import FakeHub, make_record

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


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, fake_hub: FakeHub) -> str:
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    return sqlite_url


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["refresh", *args], prog_name="hubpulse")


def one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def snapshots(url: str) -> list[tuple[str, str | None]]:
    engine = make_engine(url)
    try:
        return [(s.status, s.error) for s in Cache(engine).snapshots(status=None)]
    finally:
        engine.dispose()


def test_refresh_prints_one_summary_line(env: str) -> None:
    result = run("--top", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1
    assert re.fullmatch(
        r"snapshot 1 complete: 5 models \(top 3 of 3 asked, 2 more of 129 registered orgs, "
        r"0 ancestors fetched\), 0 missing parents, 0 cycles, 10,500 downloads in the top N, "
        r"in \d+\.\d s\n",
        result.stdout,
    )
    assert snapshots(env) == [(COMPLETE, None)]


def test_a_server_failing_mid_crawl_exits_2_and_the_previous_snapshot_answers(
    env: str, fake_hub: FakeHub
) -> None:
    assert run("--top", "3").exit_code == 0
    fake_hub.reset_requests()
    fake_hub.fail(status=500, times=1000, after=2)  # from page 2 of the top listing on
    line = one_line_error(run("--top", "3"))
    assert re.fullmatch(
        rf"hubpulse: refresh failed: the Hub at {re.escape(fake_hub.url)} answered HTTP 500 "
        r"\(after retries\) while reading the top-models listing: Internal Error.*; "
        r"the previous snapshot \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\) is still answering",
        line,
    )
    assert [r.status for r in fake_hub.requests] == [200, 200] + [500] * 6
    reason = line.removeprefix("hubpulse: refresh failed: ").split("; the previous")[0]
    assert snapshots(env) == [(FAILED, reason), (COMPLETE, None)]


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
