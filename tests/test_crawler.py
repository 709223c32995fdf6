"""The crawl end to end: the real huggingface_hub client against the fake Hub, into a real store.

Waits: listings retry inside huggingface_hub (1 s, 2 s, 4 s... of real sleep), so only two
tests here let a listing fail, once each. Fetches by id retry in ``bot.ingest.hub.Backoff``, whose
``sleep`` is replaced by a recorder: the waits are asserted, never slept.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from huggingface_hub import HfApi, get_session
from sqlalchemy import Engine

from bot.core.clock import FrozenClock
from bot.core.errors import RefreshError
from bot.core.registry import Org, Registry, load_registry
from bot.ingest import hub
from bot.ingest.crawl import crawl_hub
from bot.ingest.demo import load_demo
from bot.ingest.refresh import refresh
from bot.model.lineage import walk_up
from bot.store.reader import Reader
from bot.store.snapshots import FAILED, RUNNING
from bot.store.writer import begin_snapshot
from tests.fakes.hub import FakeHub, make_record

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASE = "deepseek-ai/DeepSeek-V3-Base"
COGITO = "deepcogito/cogito-v2.1"
MIDDLE = "mid/cogito-v2.1-abliterated"
GGUF = "fan/cogito-v2.1-abliterated-GGUF"
QWEN = "Qwen/Qwen3-8B"
QWEN_RELEASE = "Qwen/Qwen4-Preview"
TOP_N = 4

WORLD = (
    make_record(QWEN, downloads=90_000, downloads_all_time=900_000),
    make_record(GGUF, downloads=50_000, parents=[MIDDLE], relation="quantized"),
    make_record("fan/qwen-tune", downloads=40_000, parents=[QWEN]),
    make_record("fan/orphan", downloads=30_000, parents=["gone/deleted-model"]),
    make_record("fan/loop-tune", downloads=20_000, parents=["loopy/a"]),
    make_record(MIDDLE, downloads=40, parents=[COGITO]),
    make_record(COGITO, downloads=10, parents=[BASE], children=7),
    make_record(BASE, downloads=5, children=1234),
    make_record("loopy/a", downloads=3, parents=["loopy/b"]),
    make_record("loopy/b", downloads=2, parents=["loopy/a"]),
    make_record(QWEN_RELEASE, downloads=0, created_at="2026-03-01T10:00:00.000Z"),
    make_record("nobody/unrelated", downloads=1),
)
"""The top 4 by downloads hold Qwen3-8B and three third-party models. Everything else is
outside the top N: a zero-download Qwen release (seen through the org listing), and the
ancestors of the top models (seen only by fetching them by id)."""

QWEN_ONLY = Registry.from_orgs([Org("Qwen", "CN", "Alibaba Qwen")])
"""With only Qwen registered, the cogito chain is reachable through lineage alone."""


@pytest.fixture
def fake_hub() -> Iterator[FakeHub]:
    with FakeHub(WORLD, page_size=2) as fake:
        yield fake


@pytest.fixture
def api(fake_hub: FakeHub) -> HfApi:
    return hub.connect(fake_hub.url, None)


class Sleeps:
    """A ``Backoff.sleep`` that records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _by_id(fake: FakeHub) -> list[tuple[str, int]]:
    return [
        (r.path.removeprefix("/api/models/"), r.status)
        for r in fake.requests
        if r.path != "/api/models"
    ]


def test_crawl_covers_top_n_org_releases_and_ancestors_up_to_the_root(
    api: HfApi, fake_hub: FakeHub
) -> None:
    crawl = crawl_hub(api, QWEN_ONLY, TOP_N)
    assert crawl.top_ids == [QWEN, GGUF, "fan/qwen-tune", "fan/orphan"]
    assert crawl.org_ids == {QWEN_RELEASE}  # no downloads, outside the top N, still seen
    assert crawl.ancestor_ids == {MIDDLE, COGITO, BASE}
    assert crawl.missing_parents == {"gone/deleted-model"}
    assert crawl.orgs_crawled == 1
    assert "nobody/unrelated" not in crawl.records
    assert "fan/loop-tune" not in crawl.records
    chain = walk_up(GGUF, lambda m: [(e.parent, e.relation) for e in crawl.records[m].parents])
    assert [step.parent for step in chain.steps] == [MIDDLE, COGITO, BASE]
    assert crawl.records[BASE].children_count == 1234  # fetched by id: the count comes along
    assert sorted(_by_id(fake_hub)) == sorted(
        [(MIDDLE, 200), ("gone/deleted-model", 404), (COGITO, 200), (BASE, 200)]
    )
    listing = [r for r in fake_hub.requests if r.path == "/api/models"]
    assert set(listing[0].query["expand"]) == set(hub.LIST_FIELDS)
    assert all("cardData" not in r.query.get("expand", []) for r in fake_hub.requests)


def test_a_cycle_of_ancestors_ends_the_walk(api: HfApi, fake_hub: FakeHub) -> None:
    crawl = crawl_hub(api, QWEN_ONLY, 5)
    assert {"loopy/a", "loopy/b"} <= crawl.ancestor_ids
    fetched = [path for path, _ in _by_id(fake_hub)]
    assert fetched.count("loopy/a") == 1
    assert fetched.count("loopy/b") == 1


def test_the_depth_cap_leaves_deeper_parents_as_roots(api: HfApi) -> None:
    crawl = crawl_hub(api, QWEN_ONLY, TOP_N, max_depth=1)
    assert crawl.ancestor_ids == {MIDDLE}
    assert COGITO not in crawl.records


def test_a_parent_named_in_another_case_resolves_to_its_record(fake_hub: FakeHub) -> None:
    fake_hub.put(make_record("fan/shouty", downloads=10**6, parents=[BASE.upper()]))
    crawl = crawl_hub(hub.connect(fake_hub.url, None), QWEN_ONLY, 1)
    assert crawl.ancestor_ids == {BASE}
    assert [e.parent for e in crawl.records["fan/shouty"].parents] == [BASE]


def test_refresh_stores_a_complete_snapshot(engine: Engine, api: HfApi) -> None:
    clock = FrozenClock(T0)
    summary = refresh(engine, api, load_registry(), TOP_N, clock=clock)
    reader = Reader(engine)
    snapshot = reader.latest()
    assert snapshot.id == summary.result.snapshot_id
    assert snapshot.taken_at == T0
    assert snapshot.source == f"hub {api.endpoint}"
    assert (snapshot.top_n, snapshot.top_models) == (TOP_N, TOP_N)
    assert snapshot.downloads_total == 90_000 + 50_000 + 40_000 + 30_000
    # deepcogito and deepseek-ai are registered: their models come from the org listings.
    assert snapshot.note == (
        "top 4 models by 30-day downloads + 3 models of "
        f"{len(load_registry())} registered orgs + 1 ancestor"
    )
    assert reader.model(QWEN_RELEASE) is not None
    stat = reader.stat(snapshot.id, GGUF)
    assert stat is not None
    assert stat.family == "deepseek-ai"
    china = reader.aggregate(snapshot.id, "lineage", "country", "CN")
    assert china is not None
    assert china.downloads == 90_000 + 50_000 + 40_000  # the cogito GGUF counts as Chinese
    assert summary.result.missing_parents == 1
    line = summary.line()
    assert line.startswith(f"snapshot {snapshot.id} complete: ")
    assert "1 missing parent," in line
    assert "\n" not in line


def test_rate_limit_and_a_server_error_mid_listing_are_survived(
    sqlite_engine: Engine, fake_hub: FakeHub, api: HfApi
) -> None:
    # Requests: the reachability check, top page 1, top page 2 (429, retried), the first org
    # listing (500, retried).
    fake_hub.fail(status=429, retry_after=0, after=2)
    fake_hub.fail(status=500, after=3)
    summary = refresh(sqlite_engine, api, QWEN_ONLY, TOP_N, clock=FrozenClock(T0))
    assert summary.result.top_models == TOP_N
    statuses = [r.status for r in fake_hub.requests if r.path == "/api/models"]
    assert statuses[:6] == [200, 200, 429, 200, 500, 200]
    assert fake_hub.pending_faults == 0


def test_a_fetch_by_id_waits_as_long_as_retry_after_says(fake_hub: FakeHub, api: HfApi) -> None:
    fake_hub.fail(status=429, retry_after=7, path_prefix=f"/api/models/{BASE}")
    fake_hub.fail(status=503, path_prefix=f"/api/models/{BASE}")
    sleeps = Sleeps()
    raw = hub.model_by_id(api, BASE, hub.Backoff(sleep=sleeps))
    assert raw is not None
    assert raw["childrenModelCount"] == 1234
    assert sleeps.waits == [8.0, 2.0]  # Retry-After + 1, then the exponential wait


def test_fetch_retries_are_logged_below_warning(
    fake_hub: FakeHub, api: HfApi, caplog: pytest.LogCaptureFixture
) -> None:
    """The refresh CLI shows warnings only: a Hub failing for good must be its one error line,
    not a warning per retry first; the scheduler's INFO log still has every retry."""
    fake_hub.fail(status=503, times=2, path_prefix=f"/api/models/{BASE}")
    caplog.set_level(logging.INFO, logger="bot.ingest.hub")
    assert hub.model_by_id(api, BASE, hub.Backoff(sleep=Sleeps())) is not None
    retries = [r for r in caplog.records if r.name == "bot.ingest.hub"]
    assert [r.levelno for r in retries] == [logging.INFO, logging.INFO]
    assert "retry 1/5" in retries[0].getMessage()


def test_a_missing_or_private_model_is_none(fake_hub: FakeHub, api: HfApi) -> None:
    fake_hub.fail(status=401, path_prefix=f"/api/models/{BASE}")
    assert hub.model_by_id(api, BASE, hub.Backoff(sleep=Sleeps())) is None
    assert hub.model_by_id(api, "gone/deleted-model", hub.Backoff(sleep=Sleeps())) is None


def _first_snapshot(engine: Engine, api: HfApi) -> int:
    return refresh(engine, api, QWEN_ONLY, TOP_N, clock=FrozenClock(T0)).result.snapshot_id


def test_persistent_errors_fail_the_refresh_and_keep_the_previous_snapshot(
    engine: Engine, fake_hub: FakeHub
) -> None:
    api = hub.connect(fake_hub.url, "hf_secretsecretsecret")
    previous = _first_snapshot(engine, api)
    fake_hub.reset_requests()
    fake_hub.fail(status=500, times=100, path_prefix=f"/api/models/{MIDDLE}")
    sleeps = Sleeps()
    with pytest.raises(RefreshError) as failure:
        refresh(
            engine,
            api,
            QWEN_ONLY,
            TOP_N,
            clock=FrozenClock(T0 + timedelta(days=7)),
            backoff=hub.Backoff(sleep=sleeps),
        )
    reason = str(failure.value)
    assert reason.startswith(f"the Hub at {fake_hub.url} answered HTTP 500 (after retries)")
    assert "\n" not in reason
    assert "secret" not in reason
    assert sleeps.waits == [1.0, 2.0, 4.0, 8.0, 8.0]
    headers = {k.lower(): v for k, v in fake_hub.requests[0].headers.items()}
    assert headers["authorization"] == "Bearer hf_secretsecretsecret"
    reader = Reader(engine)
    assert reader.latest().id == previous
    failed = reader.snapshots(status=None)[0]
    assert (failed.status, failed.error) == (FAILED, reason)


def test_an_interrupted_refresh_is_marked_failed_and_changes_nothing(
    engine: Engine, api: HfApi
) -> None:
    previous = _first_snapshot(engine, api)

    class CtrlC:
        def __init__(self) -> None:
            self.models = 0

        def phase(self, name: str, total: int | None = None) -> None:
            pass

        def advance(self, count: int = 1) -> None:
            self.models += count
            if self.models == 3:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        refresh(
            engine,
            api,
            QWEN_ONLY,
            TOP_N,
            clock=FrozenClock(T0 + timedelta(days=7)),
            progress=CtrlC(),
        )
    reader = Reader(engine)
    assert reader.latest().id == previous
    interrupted = reader.snapshots(status=None)[0]
    assert interrupted.status == FAILED
    assert interrupted.error == "interrupted before it finished"


def test_a_refresh_killed_outright_is_ignored_then_marked_abandoned(
    engine: Engine, api: HfApi
) -> None:
    previous = _first_snapshot(engine, api)
    killed = begin_snapshot(engine, T0 + timedelta(days=1), f"hub {api.endpoint}", TOP_N)
    reader = Reader(engine)
    left_running = reader.snapshot(killed)
    assert left_running is not None
    assert left_running.status == RUNNING
    assert reader.latest().id == previous
    refresh(engine, api, QWEN_ONLY, TOP_N, clock=FrozenClock(T0 + timedelta(days=7)))
    abandoned = reader.snapshot(killed)
    assert abandoned is not None
    assert abandoned.status == FAILED
    assert abandoned.error is not None
    assert abandoned.error.startswith("abandoned")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_hub_fails_at_once(sqlite_engine: Engine) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(hub.HubUnreachable, match=r"cannot reach the Hub at .*HF_ENDPOINT"):
        refresh(sqlite_engine, hub.connect(endpoint, None), QWEN_ONLY, TOP_N)
    failed = Reader(sqlite_engine).snapshots(status=None)[0]
    assert failed.status == FAILED
    assert failed.error is not None
    assert endpoint in failed.error


def test_requests_carry_a_timeout(api: HfApi, fake_hub: FakeHub) -> None:
    seen: list[dict[str, Any]] = []
    session = get_session()
    session.event_hooks["request"].append(
        lambda request: seen.append(request.extensions["timeout"])
    )
    try:
        list(hub.top_models(api, 1))
    finally:
        session.event_hooks["request"].pop()
    assert seen
    assert all(timeout["read"] == hub.REQUEST_TIMEOUT.read for timeout in seen)


def test_a_real_refresh_retires_the_demo_and_never_compares_with_it(
    sqlite_engine: Engine, fake_hub: FakeHub, api: HfApi
) -> None:
    load_demo(sqlite_engine, clock=FrozenClock(T0 - timedelta(days=7)))
    # Above the demo's invented all-time count, so a difference against it would look valid.
    fake_hub.set_downloads(QWEN, 90_000, 90_000_000)
    refresh(sqlite_engine, api, load_registry(), TOP_N, clock=FrozenClock(T0))
    reader = Reader(sqlite_engine)
    snapshots = reader.snapshots()
    assert [s.source for s in snapshots] == [f"hub {api.endpoint}"]
    latest = reader.latest()
    assert reader.week_before(latest) is None
    stat = reader.stat(latest.id, QWEN)
    assert stat is not None
    assert stat.weekly_basis == "30d"  # not a difference against the demo's invented all-time
