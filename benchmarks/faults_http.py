"""Unsigned flood: 100 requests of 20 MiB, 10 at a time, against one `hubpulse serve` process.

Each client sends its whole body as fast as the server takes it and stops only when the
server answers or closes (``tests/faults/edge.py``'s ``send_body``). Reported per run: the
server's peak resident memory above where it started (Linux ``VmHWM``, reset before the run;
target under 50 MiB), how much its log grew (target under 100 KiB), and how many answers were
not a 4xx (target 0). ``--burn N`` keeps N extra processes spinning on the CPU meanwhile.

    .venv/bin/python benchmarks/faults_http.py [--requests 100] [--concurrency 10]
        [--mib 20] [--runs 3] [--burn 2]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.edge import FORM, MIB, memory_of, reset_peak, send_body
from tests.slack_harness import ServeProcess, harness_slack, migrated_with_snapshots

TARGET_PEAK_MIB = 50
TARGET_LOG_KIB = 100


def burn(stop_at: float) -> None:
    while time.monotonic() < stop_at:
        pass


def flood(server: ServeProcess, requests: int, concurrency: int, size: int) -> dict[str, float]:
    assert server.process is not None
    pid = server.process.pid
    log_before = sum(len(line) for line in server.log)
    reset_peak(pid)
    start = memory_of(pid).resident
    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        statuses = list(
            pool.map(
                lambda _: send_body(server.url, "/slack/events", size, {"Content-Type": FORM}),
                range(requests),
            )
        )
    seconds = time.perf_counter() - began
    counted = Counter(statuses)
    return {
        "seconds": seconds,
        "peak_mib": (memory_of(pid).peak - start) / MIB,
        "log_kib": (sum(len(line) for line in server.log) - log_before) / 1024,
        "not_4xx": sum(n for status, n in counted.items() if not status or not 400 <= status < 500),
        "413": counted.get(413, 0),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--mib", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--burn", type=int, default=0, help="CPU-spinning processes meanwhile")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, harness_slack() as fake:
        url = migrated_with_snapshots(f"sqlite:///{tmp}/bench.db")
        print(
            f"{args.requests} unsigned requests of {args.mib} MiB, {args.concurrency} at a time, "
            f"{args.burn} CPU burners"
        )
        ok = True
        with ServeProcess(fake, url) as server:
            for run in range(1, args.runs + 1):
                burners = [
                    multiprocessing.Process(target=burn, args=(time.monotonic() + 600,))
                    for _ in range(args.burn)
                ]
                for burner in burners:
                    burner.start()
                try:
                    result = flood(server, args.requests, args.concurrency, args.mib * MIB)
                finally:
                    for burner in burners:
                        burner.terminate()
                print(
                    f"run {run}: {result['seconds']:.1f} s, peak RSS +{result['peak_mib']:.1f} "
                    f"MiB, log +{result['log_kib']:.1f} KiB, 413: {result['413']}, "
                    f"not 4xx: {result['not_4xx']}"
                )
                ok = ok and (
                    result["peak_mib"] < TARGET_PEAK_MIB
                    and result["log_kib"] < TARGET_LOG_KIB
                    and result["not_4xx"] == 0
                )
            code = server.stop()
        print(f"server exit code {code}; targets {'met' if ok else 'MISSED'}")
        return 0 if ok and code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
