"""Tests of the fake Hub (tests/fakehub.py), driven by the real ``huggingface_hub`` client."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from huggingface_hub import HfApi, ModelInfo
from huggingface_hub.errors import (
    BadRequestError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import _http

from tests.fakehub import DEFAULT_LIST_FIELDS, FakeHub, make_record

N_RECORDS = 120
PAGE_SIZE = 50


def _records() -> list[dict[str, Any]]:
    """120 models: downloads 1000..1119 (some ties), in three namespaces, some finetunes."""
    records = []
    for i in range(N_RECORDS):
        parents = ("Qwen/Qwen2.5-7B",) if i % 4 == 1 else ("meta-llama/Llama-3.1-8B",)
        records.append(
            make_record(
                f"org{i % 3}/model-{i:03d}",
                downloads=1000 + (i // 2) * 2,  # pairs of equal downloads: ties broken by id
                downloads_all_time=50_000 + i,
                likes=i % 7,
                created_at=f"2025-01-{1 + i % 28:02d}T03:04:05.000Z",
                parents=parents if i % 2 else (),
                relation="finetune" if i % 3 else "quantized",
                children=i,
            )
        )
    return records


def _expected_order(records: list[dict[str, Any]], key: str) -> list[str]:
    return [r["id"] for r in sorted(records, key=lambda r: (-r[key], r["id"]))]


@pytest.fixture
def records() -> list[dict[str, Any]]:
    return _records()


@pytest.fixture
def hub(records: list[dict[str, Any]]) -> Iterator[FakeHub]:
    with FakeHub(records, page_size=PAGE_SIZE) as fake:
        yield fake


@pytest.fixture
def api(hub: FakeHub) -> HfApi:
    return HfApi(endpoint=hub.url, token=False)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the client's backoff sleeps (and really sleep)."""
    recorded: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        recorded.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(_http, "time", SimpleNamespace(sleep=sleep))
    return recorded


@pytest.fixture
def fast_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the client's backoff sleeps without sleeping."""
    recorded: list[float] = []
    monkeypatch.setattr(_http, "time", SimpleNamespace(sleep=recorded.append))
    return recorded


def _get(url: str) -> tuple[int, dict[str, str], Any]:
    """GET ``url`` with the standard library; return status, headers and decoded JSON."""
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


# ---------------------------------------------------------------------- listing


def test_list_models_sorted_top_n_across_pages(
    hub: FakeHub, api: HfApi, records: list[dict[str, Any]]
) -> None:
    models = list(
        api.list_models(
            sort="downloads",
            limit=110,
            expand=["downloads", "downloadsAllTime", "createdAt", "tags"],
        )
    )

    assert [m.id for m in models] == _expected_order(records, "downloads")[:110]
    assert all(isinstance(m, ModelInfo) for m in models)
    top = models[0]
    source = next(r for r in records if r["id"] == top.id)
    assert top.downloads == source["downloads"]
    assert top.downloads_all_time == source["downloadsAllTime"]
    assert top.created_at == datetime.fromisoformat(source["createdAt"]).astimezone(UTC)
    assert top.tags == source["tags"]
    assert top.likes is None  # not expanded: absent, as on the real Hub
    # 110 results in pages of 50: the client followed two Link headers.
    assert hub.count("/api/models") == 3
    assert [r.status for r in hub.requests] == [200, 200, 200]
    assert "cursor" not in hub.requests[0].query
    assert all("cursor" in r.query for r in hub.requests[1:])
    assert all(r.query["expand"] == hub.requests[0].query["expand"] for r in hub.requests)


def test_list_models_without_limit_returns_everything(
    hub: FakeHub, api: HfApi, records: list[dict[str, Any]]
) -> None:
    models = list(api.list_models(sort="likes"))
    assert [m.id for m in models] == _expected_order(records, "likes")
    assert hub.count() == 3  # 50 + 50 + 20


def test_default_fields_link_header_and_request_id(hub: FakeHub) -> None:
    status, headers, body = _get(f"{hub.url}/api/models?sort=downloads&limit=2&search=model")
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["x-request-id"]
    assert [set(m) for m in body] == [{*DEFAULT_LIST_FIELDS, "modelId"}] * 2
    assert body[0]["modelId"] == body[0]["id"]

    link = headers["Link"]
    assert link.startswith(f"<{hub.url}/api/models?")
    assert link.endswith('>; rel="next"')
    next_url = link[1 : link.index(">")]
    assert {"sort=downloads", "limit=2", "search=model"} <= set(next_url.split("?")[1].split("&"))
    _, next_headers, next_body = _get(next_url)
    assert [m["id"] for m in next_body] != [m["id"] for m in body]
    assert len(next_body) == 2
    assert "Link" in next_headers

    _, last_headers, last_body = _get(f"{hub.url}/api/models?search=model-119")
    assert len(last_body) == 1
    assert "Link" not in last_headers


def test_author_filter_and_search(api: HfApi, records: list[dict[str, Any]]) -> None:
    by_author = list(api.list_models(author="ORG1"))
    assert {m.id for m in by_author} == {r["id"] for r in records if r["author"] == "org1"}

    finetunes = list(api.list_models(filter="base_model:finetune:Qwen/Qwen2.5-7B"))
    expected = {r["id"] for r in records if "base_model:finetune:Qwen/Qwen2.5-7B" in r["tags"]}
    assert len(expected) == 20  # i % 4 == 1 and i % 3 != 0
    assert {m.id for m in finetunes} == expected

    # Several filters must all match; library_name / pipeline_tag values count as tags.
    both = list(
        api.list_models(filter=["base_model:Qwen/Qwen2.5-7B", "transformers"], author="org0")
    )
    assert {m.id for m in both} == {
        r["id"]
        for r in records
        if "base_model:Qwen/Qwen2.5-7B" in r["tags"] and r["author"] == "org0"
    }

    found = list(api.list_models(search="MODEL-01", sort="downloads"))
    assert [m.id for m in found] == [
        i for i in _expected_order(records, "downloads") if "model-01" in i
    ]
    assert list(api.list_models(search="no-such-thing")) == []


def test_bad_requests_raise_bad_request_error(hub: FakeHub, api: HfApi) -> None:
    with pytest.raises(BadRequestError, match="sort"):
        list(api.list_models(sort="bogus"))  # type: ignore[arg-type]
    with pytest.raises(BadRequestError, match="expand"):
        list(api.list_models(expand=["nope"]))  # type: ignore[list-item]
    status, _, body = _get(f"{hub.url}/api/models?cursor=garbage")
    assert status == 400
    assert "error" in body
    status, _, body = _get(f"{hub.url}/api/spaces")
    assert status == 404
    assert "error" in body


def test_updates_are_visible(hub: FakeHub, api: HfApi) -> None:
    hub.set_downloads("org2/model-005", 10**9, downloads_all_time=10**10)
    hub.put(make_record("new/model", downloads=10**8))
    hub.remove("org0/model-000")
    hub.update("org1/model-001", likes=1000)

    top = list(api.list_models(sort="downloads", limit=2, expand=["downloadsAllTime"]))
    assert [m.id for m in top] == ["org2/model-005", "new/model"]
    assert top[0].downloads_all_time == 10**10
    assert next(iter(api.list_models(sort="likes", limit=1))).id == "org1/model-001"
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("org0/model-000")
    with pytest.raises(KeyError):
        hub.remove("org0/model-000")


# ---------------------------------------------------------------------- model info


def test_model_info(api: HfApi, records: list[dict[str, Any]]) -> None:
    source = records[7]
    info = api.model_info(
        source["id"], expand=["downloads", "baseModels", "childrenModelCount", "tags", "gated"]
    )
    assert info.id == source["id"]
    assert info.downloads == source["downloads"]
    assert info.base_models == source["baseModels"]
    assert info.children_model_count == source["childrenModelCount"]
    assert info.tags == source["tags"]
    assert info.gated is False
    assert info.likes is None  # not expanded

    full = api.model_info(source["id"].upper())  # repo ids are case-insensitive
    assert full.id == source["id"]
    assert full.author == source["author"]
    assert full.card_data is not None
    assert full.card_data.license == "apache-2.0"
    assert full.base_models is None  # expand-only, as on the real Hub

    assert api.model_info(source["id"], revision="main").sha == source["sha"]
    with pytest.raises(RevisionNotFoundError):
        api.model_info(source["id"], revision="no-such-branch")


def test_model_info_unknown_repo(hub: FakeHub, api: HfApi) -> None:
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("nobody/nothing")
    status, headers, body = _get(f"{hub.url}/api/models/nobody/nothing")
    assert status == 404
    assert headers["X-Error-Code"] == "RepoNotFound"
    assert body == {"error": "Repository not found"}


# ---------------------------------------------------------------------- faults


def test_single_500_mid_pagination_is_retried(
    hub: FakeHub, api: HfApi, records: list[dict[str, Any]], sleeps: list[float]
) -> None:
    hub.fail(status=500, after=1)  # the first page succeeds, the second fails once
    models = list(api.list_models(sort="downloads", expand=["downloads"]))
    assert [m.id for m in models] == _expected_order(records, "downloads")
    assert [r.status for r in hub.requests] == [200, 500, 200, 200]
    assert hub.requests[1].query == hub.requests[2].query  # same page asked again
    assert sleeps == [1]
    assert hub.pending_faults == 0


def test_429_retry_after_is_honoured(
    hub: FakeHub, api: HfApi, records: list[dict[str, Any]], fast_sleeps: list[float]
) -> None:
    hub.fail(status=429, retry_after=3, after=2)
    models = list(api.list_models(sort="downloads"))
    assert [m.id for m in models] == _expected_order(records, "downloads")
    assert [r.status for r in hub.requests] == [200, 200, 429, 200]
    # The client parsed RateLimit: "api";r=0;t=3 and waited t + 1 seconds.
    assert fast_sleeps == [4.0]


def test_429_headers(hub: FakeHub) -> None:
    hub.fail(status=429, retry_after=7)
    status, headers, body = _get(f"{hub.url}/api/models")
    assert status == 429
    assert headers["Retry-After"] == "7"
    assert headers["RateLimit"] == '"api";r=0;t=7'
    assert headers["RateLimit-Policy"] == '"fixed window";"api";q=500;w=300'
    assert "error" in body


def test_persistent_500_raises(hub: FakeHub, api: HfApi, fast_sleeps: list[float]) -> None:
    hub.fail(status=503, times=100, body={"error": "down for maintenance"})
    with pytest.raises(HfHubHTTPError, match="down for maintenance") as excinfo:
        list(api.list_models(limit=10))
    assert excinfo.value.response.status_code == 503
    assert hub.count("/api/models") == 6  # one try and five retries
    assert fast_sleeps == [1, 2, 4, 8, 8]  # the client's exponential backoff


def test_dropped_connection_is_retried(
    hub: FakeHub, api: HfApi, records: list[dict[str, Any]], sleeps: list[float]
) -> None:
    hub.drop_connection(after=1)
    models = list(api.list_models(sort="downloads"))
    assert [m.id for m in models] == _expected_order(records, "downloads")
    assert [r.status for r in hub.requests] == [200, 0, 200, 200]
    assert sleeps == [1]


def test_fault_path_prefix_and_order(hub: FakeHub, api: HfApi) -> None:
    hub.fail(status=500, path_prefix="/api/datasets", times=5)  # never matches
    hub.fail(status=404, path_prefix="/api/models/org0/")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("org0/model-000")
    assert api.model_info("org0/model-000").id == "org0/model-000"
    assert hub.pending_faults == 1
    hub.clear_faults()
    assert hub.pending_faults == 0


# ---------------------------------------------------------------------- helpers and scale


def test_make_record() -> None:
    record = make_record(
        "org/child",
        downloads=5,
        parents=["a/base", "b/base"],
        relation="merge",
        license="mit",
        children=3,
        extra_tags=["gguf"],
    )
    assert record["author"] == "org"
    assert len(record["_id"]) == 24
    assert int(record["_id"], 16) >= 0
    assert record["_id"] == make_record("org/child")["_id"] != make_record("org/other")["_id"]
    assert record["tags"] == [
        "transformers",
        "text-generation",
        "gguf",
        "base_model:a/base",
        "base_model:b/base",
        "base_model:merge:a/base",
        "base_model:merge:b/base",
        "license:mit",
        "region:us",
    ]
    assert record["baseModels"] == {
        "relation": "merge",
        "models": [{"id": "a/base"}, {"id": "b/base"}],
    }
    assert record["childrenModelCount"] == 3
    assert record["downloadsAllTime"] == 5
    assert "baseModels" not in make_record("org/root")
    info = ModelInfo(**record)
    assert info.created_at == datetime(2025, 1, 1, tzinfo=UTC)


def test_large_catalogue_pages_in_download_order() -> None:
    records = [
        make_record(f"org{i % 1000}/m-{i}", downloads=(i * 7919) % 1_000_003, likes=i % 101)
        for i in range(20_000)
    ]
    with FakeHub(records) as hub:
        api = HfApi(endpoint=hub.url, token=False)
        top = list(api.list_models(sort="downloads", limit=5000, expand=["downloads"]))
        pages = hub.count("/api/models")
    downloads = [m.downloads or 0 for m in top]
    assert downloads == sorted(downloads, reverse=True)
    assert downloads[0] == max(r["downloads"] for r in records)
    assert len({m.id for m in top}) == 5000
    assert pages == 5
