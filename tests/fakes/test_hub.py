"""Tests of the fake Hub (tests/fakes/hub.py), driven by the real ``huggingface_hub`` client."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from huggingface_hub import (
    HfApi,
    HfFileSystem,
    ModelInfo,
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
)
from huggingface_hub.errors import (
    BadRequestError,
    EntryNotFoundError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils import _http

from tests.fakes.hub import DEFAULT_LIST_FIELDS, FakeHub, make_record

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


# ---------------------------------------------------------------------- dataset repos

REPO = "org/archive"
WEEK = "models/2024-07-24/models.parquet"
BLOB = bytes(range(256)) * 400  # 102,400 bytes, stored with LFS (a .parquet)
README = b"# The archive\n"


@pytest.fixture
def dataset_hub() -> Iterator[FakeHub]:
    with FakeHub(tree_page_size=3) as fake:
        fake.put_dataset_files(
            REPO,
            {
                WEEK: BLOB,
                "models/2024-07-31/models.parquet": BLOB[:1000],
                "spaces/2024-07-24/spaces.parquet": b"PAR1",
                "README.md": README,
            },
        )
        yield fake


@pytest.fixture
def dataset_api(dataset_hub: FakeHub) -> HfApi:
    return HfApi(endpoint=dataset_hub.url, token=False)


def _git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _raw(
    url: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request with the standard library, redirects not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with opener.open(request) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_list_repo_tree_recursive_pages_through_link(
    dataset_hub: FakeHub, dataset_api: HfApi
) -> None:
    tree = list(dataset_api.list_repo_tree(REPO, recursive=True, repo_type="dataset"))
    assert [(type(e).__name__, e.path) for e in tree] == [
        ("RepoFolder", "models"),
        ("RepoFolder", "models/2024-07-24"),
        ("RepoFile", "models/2024-07-24/models.parquet"),
        ("RepoFolder", "models/2024-07-31"),
        ("RepoFile", "models/2024-07-31/models.parquet"),
        ("RepoFolder", "spaces"),
        ("RepoFolder", "spaces/2024-07-24"),
        ("RepoFile", "spaces/2024-07-24/spaces.parquet"),
        ("RepoFile", ".gitattributes"),
        ("RepoFile", "README.md"),
    ]
    week = tree[2]
    assert isinstance(week, RepoFile)
    assert week.size == len(BLOB)
    assert week.lfs is not None
    assert week.lfs.sha256 == hashlib.sha256(BLOB).hexdigest()
    assert len(week.blob_id) == 40
    readme = tree[-1]
    assert isinstance(readme, RepoFile)
    assert readme.lfs is None
    assert readme.blob_id == _git_blob_id(README)
    # 10 entries in pages of 3, each next page named by a Link header.
    pages = [r for r in dataset_hub.requests if "/tree/" in r.path]
    assert len(pages) == 4
    assert pages[0].query == {"recursive": ["true"], "expand": ["false"]}
    assert all("cursor" in r.query for r in pages[1:])


def test_list_repo_tree_of_a_folder_and_its_errors(
    dataset_hub: FakeHub, dataset_api: HfApi
) -> None:
    children = dataset_api.list_repo_tree(REPO, path_in_repo="models", repo_type="dataset")
    assert [e.path for e in children] == ["models/2024-07-24", "models/2024-07-31"]
    deep = dataset_api.list_repo_tree(
        REPO, path_in_repo="models", recursive=True, repo_type="dataset"
    )
    assert [e.path for e in deep if isinstance(e, RepoFile)] == [
        WEEK,
        "models/2024-07-31/models.parquet",
    ]
    # The client encodes the folder's slashes; the fake, like the Hub, decodes them.
    assert dataset_hub.requests[-1].path.endswith("/tree/main/models")

    with pytest.raises(EntryNotFoundError, match="does not exist"):
        list(dataset_api.list_repo_tree(REPO, path_in_repo="datasets", repo_type="dataset"))
    with pytest.raises(RepositoryNotFoundError):
        list(dataset_api.list_repo_tree("org/nothing", repo_type="dataset"))
    with pytest.raises(RevisionNotFoundError):
        list(dataset_api.list_repo_tree(REPO, repo_type="dataset", revision="v2"))
    with pytest.raises(RepositoryNotFoundError):  # a dataset is not a model
        list(dataset_api.list_repo_tree(REPO))
    status, headers, body = _raw(f"{dataset_hub.url}/api/datasets/org/nothing/tree/main")
    assert (status, headers["X-Error-Code"]) == (404, "RepoNotFound")
    assert json.loads(body) == {"error": "Repository not found"}
    status, headers, _ = _raw(f"{dataset_hub.url}/api/datasets/{REPO}/tree/main/nope")
    assert (status, headers["X-Error-Code"]) == (404, "EntryNotFound")


def test_list_repo_tree_expanded(dataset_hub: FakeHub, dataset_api: HfApi) -> None:
    head = dataset_hub.dataset_head(REPO)
    tree = list(
        dataset_api.list_repo_tree(REPO, path_in_repo="models", repo_type="dataset", expand=True)
    )
    assert all(e.last_commit is not None and e.last_commit.oid == head for e in tree)
    files = list(dataset_api.list_repo_tree(REPO, repo_type="dataset", expand=True))
    assert all(e.security is not None and e.security.safe for e in files if isinstance(e, RepoFile))


def test_revisions_and_history(dataset_hub: FakeHub, dataset_api: HfApi) -> None:
    before = dataset_hub.dataset_head(REPO)
    after = dataset_hub.put_dataset_file(REPO, "models/2024-08-07/models.parquet", b"new")
    assert after == dataset_hub.dataset_head(REPO) != before
    assert dataset_api.dataset_info(REPO).sha == after
    assert dataset_api.dataset_info(REPO, revision=before).sha == before
    old = dataset_api.list_repo_files(REPO, repo_type="dataset", revision=before)
    new = dataset_api.list_repo_files(REPO, repo_type="dataset")
    assert set(new) - set(old) == {"models/2024-08-07/models.parquet"}

    removed = dataset_hub.remove_dataset_file(REPO, WEEK)
    assert WEEK not in dataset_api.list_repo_files(REPO, repo_type="dataset")
    assert WEEK in dataset_api.list_repo_files(REPO, repo_type="dataset", revision=after)
    assert dataset_api.dataset_info(REPO, revision="main").sha == removed
    with pytest.raises(RevisionNotFoundError):
        dataset_api.dataset_info(REPO, revision="0" * 40)
    with pytest.raises(KeyError):
        dataset_hub.remove_dataset_file(REPO, WEEK)
    with pytest.raises(ValueError, match="both a file and a directory"):
        dataset_hub.put_dataset_file(REPO, "models", b"x")
    with pytest.raises(ValueError, match="both a file and a directory"):
        dataset_hub.put_dataset_file(REPO, "README.md/x", b"x")

    dataset_hub.remove_dataset(REPO)
    with pytest.raises(RepositoryNotFoundError):
        dataset_api.dataset_info(REPO)
    with pytest.raises(KeyError):
        dataset_hub.remove_dataset(REPO)


def test_dataset_info(dataset_api: HfApi) -> None:
    info = dataset_api.dataset_info(REPO.upper())  # repo ids are case-insensitive
    assert info.id == REPO
    assert info.author == "org"
    assert info.siblings is not None
    assert {s.rfilename for s in info.siblings} >= {WEEK, "README.md", ".gitattributes"}
    assert all(s.size is None for s in info.siblings)
    sizes = {
        s.rfilename: (s.size, s.lfs is not None)
        for s in dataset_api.dataset_info(REPO, files_metadata=True).siblings or []
    }
    assert sizes[WEEK] == (len(BLOB), True)
    assert sizes["README.md"] == (len(README), False)


def test_paths_info_reads_the_form_body(dataset_hub: FakeHub, dataset_api: HfApi) -> None:
    found = dataset_api.get_paths_info(
        REPO, [WEEK, "models", "nope.txt"], repo_type="dataset", revision="main"
    )
    assert [(type(e).__name__, e.path) for e in found] == [
        ("RepoFile", WEEK),
        ("RepoFolder", "models"),
    ]
    request = dataset_hub.requests[-1]
    assert (request.method, request.path) == ("POST", f"/api/datasets/{REPO}/paths-info/main")
    form = urllib.parse.parse_qs(request.body.decode())
    assert form == {"paths": [WEEK, "models", "nope.txt"], "expand": ["false"]}

    expanded = dataset_api.get_paths_info(REPO, WEEK, repo_type="dataset", expand=True)
    assert isinstance(expanded[0], RepoFile)
    assert expanded[0].last_commit is not None
    with pytest.raises(RepositoryNotFoundError):
        dataset_api.get_paths_info("org/nothing", WEEK, repo_type="dataset")
    with pytest.raises(RevisionNotFoundError):
        dataset_api.get_paths_info(REPO, WEEK, repo_type="dataset", revision="nope")


def test_resolve_redirects_an_lfs_file_to_the_cdn(dataset_hub: FakeHub) -> None:
    url = f"{dataset_hub.url}/datasets/{REPO}/resolve/main/{WEEK}"
    status, headers, body = _raw(url, "HEAD")
    assert status == 302
    assert headers["X-Repo-Commit"] == dataset_hub.dataset_head(REPO)
    assert headers["X-Linked-Size"] == str(len(BLOB))
    assert headers["X-Linked-Etag"] == f'"{hashlib.sha256(BLOB).hexdigest()}"'
    assert headers["Content-Type"].startswith("text/plain")
    location = headers["Location"]

    status, headers, body = _raw(location, headers={"Range": "bytes=100-199"})
    assert status == 206
    assert body == BLOB[100:200]
    assert headers["Content-Range"] == f"bytes 100-199/{len(BLOB)}"
    assert headers["Content-Length"] == "100"
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["ETag"] == f'"{hashlib.sha256(BLOB).hexdigest()}"'
    assert _raw(location, headers={"Range": "bytes=-10"})[2] == BLOB[-10:]
    assert _raw(location, headers={"Range": f"bytes={len(BLOB) - 5}-"})[2] == BLOB[-5:]
    # An end past the file is cut to it; several ranges are ignored (the whole file).
    assert _raw(location, headers={"Range": "bytes=102390-999999"})[2] == BLOB[-10:]
    assert _raw(location, headers={"Range": "bytes=0-1,5-6"})[:1] == (200,)

    status, headers, _ = _raw(location, headers={"Range": f"bytes={len(BLOB)}-"})
    assert status == 416
    assert headers["Content-Range"] == f"bytes */{len(BLOB)}"

    status, _, body = _raw(location.replace("/cdn-lfs/", "/cdn-lfs/0"))
    assert status == 403
    assert b"AccessDenied" in body
    assert _raw(location.replace(dataset_hub.cdn_url, dataset_hub.url))[0] == 404
    assert _raw(f"{dataset_hub.cdn_url}/api/datasets/{REPO}")[0] == 403
    # Bytes served: 100 + 10 + 5 + 10 + the whole file; HEADs, 302s and errors send none.
    assert dataset_hub.bytes_served(REPO, WEEK) == 125 + len(BLOB)
    assert dataset_hub.bytes_served() == dataset_hub.bytes_served(REPO)


def test_resolve_serves_a_small_file_directly(dataset_hub: FakeHub) -> None:
    url = f"{dataset_hub.url}/datasets/{REPO}/resolve/main/README.md"
    status, headers, body = _raw(url)
    assert (status, body) == (200, README)
    assert headers["ETag"] == f'"{_git_blob_id(README)}"'
    assert headers["X-Repo-Commit"] == dataset_hub.dataset_head(REPO)
    assert "X-Linked-Size" not in headers  # only LFS files have one
    status, headers, body = _raw(url, headers={"Range": "bytes=2-4"})
    assert (status, body, headers["Content-Range"]) == (206, README[2:5], "bytes 2-4/14")
    status, headers, body = _raw(url, "HEAD")
    assert (status, headers["Content-Length"], body) == (200, "14", b"")
    assert dataset_hub.bytes_served(REPO, "README.md") == 14 + 3

    status, headers, body = _raw(f"{dataset_hub.url}/datasets/{REPO}/resolve/main/nope.md")
    assert (status, headers["X-Error-Code"]) == (404, "EntryNotFound")
    status, headers, body = _raw(f"{dataset_hub.url}/datasets/{REPO}/resolve/v9/README.md")
    assert (status, headers["X-Error-Code"]) == (404, "RevisionNotFound")
    status, headers, body = _raw(f"{dataset_hub.url}/datasets/org/nothing/resolve/main/a")
    assert (status, headers["X-Error-Code"]) == (404, "RepoNotFound")


def test_file_metadata_and_download_with_the_client(dataset_hub: FakeHub, tmp_path: Any) -> None:
    url = hf_hub_url(REPO, WEEK, repo_type="dataset", endpoint=dataset_hub.url)
    metadata = get_hf_file_metadata(url, token=False)
    assert metadata.size == len(BLOB)
    assert metadata.etag == hashlib.sha256(BLOB).hexdigest()
    assert metadata.commit_hash == dataset_hub.dataset_head(REPO)
    assert metadata.location.startswith(f"{dataset_hub.cdn_url}/cdn-lfs/")

    path = hf_hub_download(
        REPO, WEEK, repo_type="dataset", endpoint=dataset_hub.url, token=False, cache_dir=tmp_path
    )
    with open(path, "rb") as file:
        assert file.read() == BLOB
    with pytest.raises(RemoteEntryNotFoundError):
        get_hf_file_metadata(url.replace("models.parquet", "other.parquet"), token=False)


def test_hf_file_system_ls_info_and_ranged_reads(dataset_hub: FakeHub) -> None:
    fs = HfFileSystem(endpoint=dataset_hub.url, token=False, skip_instance_cache=True)
    root = f"datasets/{REPO}"
    assert fs.ls(f"{root}/models", detail=False) == [
        f"{root}/models/2024-07-24",
        f"{root}/models/2024-07-31",
    ]
    assert fs.info(f"{root}/{WEEK}")["size"] == len(BLOB)
    assert fs.info(f"{root}/{WEEK}", refresh=True)["size"] == len(BLOB)  # paths-info
    assert dataset_hub.count(f"/api/datasets/{REPO}/paths-info/main") == 1
    assert fs.glob(f"{root}/models/*/models.parquet") == [
        f"{root}/{WEEK}",
        f"{root}/models/2024-07-31/models.parquet",
    ]

    dataset_hub.reset_requests()
    with fs.open(f"{root}@main/{WEEK}", "rb", block_size=4096, cache_type="none") as file:
        file.seek(50_000)
        assert file.read(1000) == BLOB[50_000:51_000]
        file.seek(-24, 2)
        assert file.read() == BLOB[-24:]
    ranges = [r.headers.get("range") for r in dataset_hub.requests if r.path.startswith("/cdn")]
    assert ranges == ["bytes=50000-50999", f"bytes={len(BLOB) - 24}-{len(BLOB) - 1}"]
    assert [r.status for r in dataset_hub.requests if r.path.startswith("/datasets/")] == [302] * 2
    assert dataset_hub.bytes_served(REPO, WEEK) == 1024

    with fs.open(f"{root}/README.md", "rb") as file:  # a whole read streams the file
        assert file.read() == README
    with pytest.raises(FileNotFoundError, match="repository not found"):
        fs.open(f"datasets/org/nothing/{WEEK}", "rb")
    with pytest.raises(FileNotFoundError, match="revision not found"):
        fs.open(f"{root}@v9/{WEEK}", "rb")
    with pytest.raises(FileNotFoundError):
        fs.open(f"{root}/models/2024-01-01/models.parquet", "rb")


def test_range_reads_without_the_redirect() -> None:
    with FakeHub(lfs_redirect=False) as hub:
        hub.put_dataset_file(REPO, WEEK, BLOB)
        fs = HfFileSystem(endpoint=hub.url, token=False, skip_instance_cache=True)
        with fs.open(f"datasets/{REPO}/{WEEK}", "rb", block_size=1024, cache_type="none") as f:
            f.seek(10)
            assert f.read(10) == BLOB[10:20]
        assert [r.status for r in hub.requests if "/resolve/" in r.path] == [206]
        assert hub.count("/cdn-lfs/") == 0
        assert hub.bytes_served() == 10


def test_faults_on_range_reads_are_retried_or_raised(
    dataset_hub: FakeHub, fast_sleeps: list[float]
) -> None:
    fs = HfFileSystem(endpoint=dataset_hub.url, token=False, skip_instance_cache=True)
    resolve = f"/datasets/{REPO}/resolve/"
    dataset_hub.fail(status=500, path_prefix=resolve, after=1)
    dataset_hub.drop_connection(path_prefix=resolve, after=1)
    with fs.open(f"datasets/{REPO}/{WEEK}", "rb", block_size=1024, cache_type="none") as file:
        assert [file.read(100) for _ in range(3)] == [BLOB[:100], BLOB[100:200], BLOB[200:300]]
    statuses = [r.status for r in dataset_hub.requests if r.path.startswith(resolve)]
    assert statuses == [302, 500, 0, 302, 302]
    assert fast_sleeps == [1, 2]

    dataset_hub.fail(status=503, path_prefix=resolve, after=2, times=6)
    with fs.open(f"datasets/{REPO}/{WEEK}", "rb", block_size=1024, cache_type="none") as file:
        file.read(100)
        file.read(100)
        with pytest.raises(HfHubHTTPError) as excinfo:
            file.read(100)
    assert excinfo.value.response.status_code == 503
    assert dataset_hub.pending_faults == 0


def test_post_elsewhere_is_a_404(dataset_hub: FakeHub) -> None:
    request = urllib.request.Request(f"{dataset_hub.url}/api/models", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request)
    assert excinfo.value.code == 404
    assert dataset_hub.requests[-1].body == b"x"
