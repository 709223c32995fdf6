"""Answers under faults: a rate-limiting Slack, then a PostgreSQL that hangs (issue #12).

One `hubpulse serve` process (HTTP mode, no scheduler) in a subprocess, pointed at
tests/fakes/slack.py's FakeSlack.

1. **Slack 429s**: ``--commands`` signed ``/share`` commands (half ``public``), ``--concurrency``
   at a time, while Slack answers every third ``chat.postMessage`` and ``response_url`` call
   429 (``Retry-After: 1``). Every acknowledgement must come within 3 s and every answer be
   delivered exactly once (one post per response URL, one channel message per public answer).
2. **Database hung**: the server's PostgreSQL (127.0.0.1:5432, database ``test``) sits behind
   tests/faults/proxy.py's ``FaultProxy``; it hangs for ``--hang`` seconds while commands arrive
   (two a second) and ``/healthz`` is asked each second. Every acknowledgement must come
   within 3 s, ``/healthz`` answer 503 within 2 s, each person hear that the data store is
   unavailable, and service (``/healthz`` 200, a normal answer) be back within 10 s.

Each part runs ``--runs`` times; the figures are printed as ranges over the runs, with the
machine's load average.

    .venv/bin/python benchmarks/faults_answers.py [--runs 2] [--commands 500] [--hang 60]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from bot.slack.replies import SLACK_BUSY
from bot.slack.running import DATA_STORE_UNAVAILABLE
from tests.fakes.slack import FakeSlack
from tests.faults.proxy import FaultProxy
from tests.slack_harness import (
    ACK_LIMIT_SECONDS,
    Reply,
    ServeProcess,
    harness_slack,
    http,
    migrated_with_snapshots,
)

POSTGRES = os.environ.get(
    "HUBPULSE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
HEALTH_LIMIT_SECONDS = 2.0
RECOVERY_LIMIT_SECONDS = 10.0
ANSWER_WAIT_SECONDS = 600.0


def rid(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def wait_until(condition: Callable[[], bool], limit: float, step: float = 0.2) -> float | None:
    """Seconds until ``condition()`` holds, or None after ``limit``."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if condition():
            return time.monotonic() - start
        time.sleep(step)
    return None


def rate_limited_run(commands: int, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, harness_slack() as fake:
        url = migrated_with_snapshots(f"sqlite:///{Path(tmp) / 'hubpulse.db'}", datetime.now(UTC))
        with ServeProcess(fake, url) as server:
            fake.rate_limit_every("chat.postMessage", 3)
            fake.rate_limit_every("response_url", 3)
            texts = ["cn public" if n % 2 else "cn" for n in range(commands)]
            start = time.monotonic()
            with ThreadPoolExecutor(concurrency) as pool:
                sent = list(pool.map(server.post_share, texts))
            public = texts.count("cn public")

            def delivered() -> int:
                ok = [c for c in fake.calls if c.ok]
                posts = [c for c in ok if c.method == "chat.postMessage"]
                private = [c for c in ok if c.method == "response_url"]
                return len(posts) + len(private)

            took = wait_until(lambda: delivered() >= commands, ANSWER_WAIT_SECONDS, 0.5)
            everything = time.monotonic() - start
            calls = list(fake.calls)
            server.stop()
    acks = [reply.seconds for reply, _ in sent]
    ok = [c for c in calls if c.ok]
    per_url = Counter(c.path.rsplit("/", 1)[-1] for c in ok if c.method == "response_url")
    busy = [c for c in ok if str(c.params.get("text", "")).startswith(SLACK_BUSY)]
    posts = [c for c in ok if c.method == "chat.postMessage"]
    urls = {rid(url) for _, url in sent}
    twice = [u for u, n in per_url.items() if n > 1]
    missing = commands - len(posts) - sum(per_url.values())
    assert not twice, f"{len(twice)} response URLs answered twice"
    assert len(posts) + len(busy) == public, (len(posts), len(busy), public)
    assert set(per_url) <= urls
    return {
        "ack_max": max(acks),
        "ack_p95": sorted(acks)[int(0.95 * (len(acks) - 1))],
        "acks_over_3s": sum(a >= ACK_LIMIT_SECONDS for a in acks),
        "non_200": sum(reply.status != 200 for reply, _ in sent),
        "answers_delivered": commands - missing,
        "answers_missing": missing,
        "answered_twice": len(twice),
        "fallbacks": len(busy),
        "rate_limited_calls": sum(c.status == 429 for c in calls),
        "all_answered_s": took if took is not None else float("nan"),
        "total_s": everything,
    }


def hung_database_run(hang: float) -> dict[str, float]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    try:
        migrated_with_snapshots(database, datetime.now(UTC))
        with (
            harness_slack() as fake,
            FaultProxy(("127.0.0.1", 5432)) as proxy,
            ServeProcess(fake, proxy.url(database)) as server,
        ):
            return _hang(server, fake, proxy, hang)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _hang(
    server: ServeProcess, fake: FakeSlack, proxy: FaultProxy, hang: float
) -> dict[str, float]:
    warm, warm_url = server.post_share("cn")
    assert warm.status == 200
    assert wait_until(lambda: any(c.ok and rid(warm_url) in c.path for c in fake.calls), 30)
    proxy.hang()
    hung_at = time.monotonic()
    sent: list[tuple[Reply, str]] = []
    health: list[Reply] = []
    done = threading.Event()

    def commands() -> None:
        with ThreadPoolExecutor(8) as pool:
            futures = []
            while time.monotonic() - hung_at < hang:
                futures.append(pool.submit(server.post_share, "cn"))
                time.sleep(0.5)
            sent.extend(f.result() for f in futures)
        done.set()

    thread = threading.Thread(target=commands)
    thread.start()
    while not done.is_set():
        health.append(http(server.url + "/healthz"))
        time.sleep(1.0)
    thread.join()
    proxy.recover()
    recovered_at = time.monotonic()
    healthy = wait_until(
        lambda: http(server.url + "/healthz").status == 200, RECOVERY_LIMIT_SECONDS * 3, 0.1
    )
    reply, url = server.post_share("cn")
    answered = wait_until(
        lambda: any(
            c.ok and rid(url) in c.path and "China" in str(c.params.get("text", ""))
            for c in fake.calls_to("response_url")
        ),
        RECOVERY_LIMIT_SECONDS * 3,
        0.1,
    )
    back = time.monotonic() - recovered_at if answered is not None else float("nan")
    answered_urls = {rid(u) for _, u in sent}

    def heard() -> tuple[int, int]:
        """(told the data store is unavailable, answered normally) among the hang's commands;
        a command that arrived just before recovery may wait on the probe in flight, see the
        database answer and get its real answer: that is service resuming, not a late one."""
        calls = [c for c in fake.calls_to("response_url") if c.ok]
        mine = [c for c in calls if c.path.rsplit("/", 1)[-1] in answered_urls]
        told = sum(c.params.get("text") == DATA_STORE_UNAVAILABLE for c in mine)
        return told, len(mine) - told

    wait_until(lambda: sum(heard()) >= len(sent), 30)
    unavailable, normal = heard()
    server.stop()
    acks = [r.seconds for r, _ in sent]
    return {
        "commands_during_hang": len(sent),
        "ack_max": max(acks),
        "acks_over_3s": sum(a >= ACK_LIMIT_SECONDS for a in acks),
        "told_unavailable": unavailable,
        "answered_at_recovery": normal,
        "not_heard": len(sent) - unavailable - normal,
        "healthz_max_s": max(h.seconds for h in health),
        "healthz_non_503": sum(h.status != 503 for h in health),
        "healthz_ok_after_recovery_s": healthy if healthy is not None else float("nan"),
        "service_back_s": back,
        "post_recovery_ack_s": reply.seconds,
    }


def report(name: str, runs: list[dict[str, float]]) -> None:
    print(f"\n{name} ({len(runs)} run(s))")
    for key in runs[0]:
        values = [run[key] for run in runs]
        low, high = min(values), max(values)
        shown = f"{low:.3g}" if low == high else f"{low:.3g} .. {high:.3g}"
        print(f"  {key:30} {shown}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--commands", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--hang", type=float, default=60.0)
    parser.add_argument("--skip-rate-limits", action="store_true")
    parser.add_argument("--skip-hang", action="store_true")
    options = parser.parse_args()
    print(f"cpus {os.cpu_count()}, load average before {os.getloadavg()}")
    failed = False
    if not options.skip_rate_limits:
        runs = [
            rate_limited_run(options.commands, options.concurrency) for _ in range(options.runs)
        ]
        report(
            f"{options.commands} commands at concurrency {options.concurrency}, "
            "Slack 429 on one call in three",
            runs,
        )
        failed |= any(
            r["acks_over_3s"] or r["answers_missing"] or r["answered_twice"] for r in runs
        )
    if not options.skip_hang:
        runs = [hung_database_run(options.hang) for _ in range(options.runs)]
        report(f"database hung {options.hang:.0f} s", runs)
        failed |= any(
            r["acks_over_3s"]
            or r["healthz_max_s"] >= HEALTH_LIMIT_SECONDS
            or r["healthz_non_503"]
            or r["not_heard"]
            or not r["service_back_s"] < RECOVERY_LIMIT_SECONDS
            for r in runs
        )
    print(f"\nload average after {os.getloadavg()}")
    print("FAILED a limit" if failed else "every limit held")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
