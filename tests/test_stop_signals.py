"""The stop signals of ``hubpulse serve`` and ``hubpulse scheduler``, in real processes.

Bursts of SIGTERM and SIGINT, back to back, against a waiter that loops as fast as it can:
a handler that took a lock (``threading.Event.set``) deadlocked in about one process in four
here, and once in CI on ``serve``. Every waiter must return within seconds.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
from bot.cli.signals import StopSignals
stop = StopSignals()
print("waiting", flush=True)
stop.wait(poll_seconds=0.0001)
print("stopped", flush=True)
"""
PROCESSES = 10
PAIRS = 200


def test_bursts_of_two_kinds_of_stop_signal_never_hang_the_waiter() -> None:
    hung = []
    for _ in range(PROCESSES):
        process = subprocess.Popen(
            [sys.executable, "-c", CHILD], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == "waiting\n"
            for _ in range(PAIRS):
                process.send_signal(signal.SIGTERM)
                process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=10)
            # The waiter returned. (The exit code is not checked: Python puts the default
            # handlers back while it exits, so a signal still in flight then ends it -15.)
            assert output == "stopped\n"
        except subprocess.TimeoutExpired:
            hung.append(process.pid)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert hung == []
