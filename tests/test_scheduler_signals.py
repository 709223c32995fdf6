"""``hubpulse scheduler`` as a real process: any number of stop signals end it cleanly.

A burst of SIGTERMs (as from a supervisor that repeats itself, or ``kill`` run twice) once left
the process deadlocked: a second handler interrupted the first one's shutdown and waited on a
lock the first held. The burst is sent without pauses while the process is alive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.hub import FakeHub, make_record
from tests.fakes.slack import FakeSlack

START = "from bot.cli import run; run()"
EXIT_SECONDS = 20


@pytest.mark.parametrize("signals", [1, 2, 200])
def test_scheduler_exits_zero_on_back_to_back_sigterms(tmp_path: Path, signals: int) -> None:
    with FakeHub() as hub, FakeSlack() as slack:
        hub.put(make_record("Qwen/Qwen3-8B", downloads=100))
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-1111-2222-abcdef",
            "SLACK_API_URL": slack.api_url,
            "HUBPULSE_DATABASE_URL": f"sqlite:///{tmp_path / 'hubpulse.db'}",
            "HF_ENDPOINT": hub.url,
            "HUBPULSE_ARCHIVE_REPO": str(tmp_path / "no-archive"),
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        }
        log = tmp_path / "stderr.txt"
        with log.open("w") as stderr:  # a file: a full pipe would block the process's logging
            process = subprocess.Popen(
                [sys.executable, "-c", START, "scheduler"],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
            try:
                assert process.stdout is not None
                started = process.stdout.readline()  # the signal handlers are installed
                assert started.startswith("hubpulse scheduler started"), log.read_text()
                for _ in range(signals):
                    if process.poll() is not None:
                        break
                    process.send_signal(signal.SIGTERM)
                code = process.wait(timeout=EXIT_SECONDS)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        assert code == 0, log.read_text()[-2000:]
        assert "hubpulse scheduler stopping" in log.read_text()
