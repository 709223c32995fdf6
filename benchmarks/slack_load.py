"""Load test: 200 signed slash commands, 20 at a time, against one `hubpulse serve` process.

The server runs in HTTP mode in a subprocess, pointed at tests/fakes/slack.py's FakeSlack through
SLACK_API_URL, with a database holding the test fixture snapshots. Each request is timed from
sending it to Slack's acknowledgement (the HTTP response); Slack shows `operation_timeout`
past 3 seconds, so every acknowledgement must come sooner. The time until every answer has
reached the fake is reported too.

    .venv/bin/python benchmarks/slack_load.py [--requests 200] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.store.engine import make_engine, upgrade
from tests.fakes.slack import FakeSlack
from tests.slack_harness import (
    ACK_LIMIT_SECONDS,
    BOT_TOKEN,
    CHANNEL,
    TEAM,
    USER,
    ServeProcess,
    store_fixture_snapshots,
)

#: What the load sends, in turn: every read-only command, with and without charts.
WORKLOAD = (
    ("/share", ""),
    ("/share", "qwen"),
    ("/share", "cn"),
    ("/lineage", "deepcogito/cogito-v2-preview"),
    ("/releases", ""),
    ("/releases", "cn 14"),
    ("/hubpulse", "help"),
    ("/digest", "preview"),
)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, FakeSlack() as fake:
        url = f"sqlite:///{tmp}/hubpulse.db"
        engine = make_engine(url)
        upgrade(engine)
        store_fixture_snapshots(engine)
        engine.dispose()
        fake.add_workspace(TEAM, BOT_TOKEN)
        fake.add_channel(TEAM, CHANNEL)
        fake.add_user(TEAM, USER)

        with ServeProcess(fake, url) as server:

            def send(index: int) -> tuple[int, float]:
                command, text = WORKLOAD[index % len(WORKLOAD)]
                reply = server.post_command(command, text, fake.response_url(f"load{index}"))
                return reply.status, reply.seconds

            started = time.perf_counter()
            with ThreadPoolExecutor(options.concurrency) as pool:
                results = list(pool.map(send, range(options.requests)))
            acked = time.perf_counter() - started
            fake.wait_for(
                lambda calls: sum(c.method == "response_url" for c in calls) >= options.requests,
                timeout=600,
            )
            answered = time.perf_counter() - started

    seconds = [s for _, s in results]
    failed = [status for status, _ in results if status != 200]
    slow = [s for s in seconds if s >= ACK_LIMIT_SECONDS]
    print(f"{options.requests} slash commands, {options.concurrency} at a time, one process")
    print(
        f"ack time: p50 {percentile(seconds, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(seconds, 0.99) * 1000:.0f} ms, "
        f"max {max(seconds) * 1000:.0f} ms, mean {statistics.mean(seconds) * 1000:.0f} ms"
    )
    print(f"all acknowledged after {acked:.1f} s; all answers at Slack after {answered:.1f} s")
    print(f"non-200 replies: {len(failed)}; acks of {ACK_LIMIT_SECONDS:.0f} s or more: {len(slow)}")
    return 1 if failed or slow else 0


if __name__ == "__main__":
    sys.exit(main())
