"""A fake of the Hugging Face Hub (the model API and dataset repos), served on loopback.

The fake is meant to be driven by the *real* client::

    with FakeHub([make_record("org/model", downloads=10)]) as hub:
        api = HfApi(endpoint=hub.url, token=False)
        models = list(api.list_models(sort="downloads", expand=["downloads", "tags"]))

It implements the parts of the Hub HTTP API that ``huggingface_hub`` uses, with the same wire
format, pagination (``Link: <...>; rel="next"`` with an opaque cursor) and errors (JSON
``{"error": ...}`` bodies, ``X-Error-Code`` headers, ``Retry-After`` / ``RateLimit`` headers), so
the client raises the same exceptions and applies the same retries as against huggingface.co:

- ``GET /api/models``: ``search``, ``author``, ``filter`` / ``other`` (repeatable),
  ``pipeline_tag``, ``gated``, ``sort`` (+ ``direction``), ``limit``, ``expand`` (repeatable),
  ``full``, ``cardData``, ``config`` and ``cursor``.
- ``GET /api/models/{namespace}/{name}`` and ``.../revision/{revision}``, with ``expand``.
- Dataset repos (:meth:`FakeHub.put_dataset_files`), with a history of commits:
  ``GET /api/datasets/{id}`` and ``.../revision/{rev}`` (``blobs``), ``GET
  /api/datasets/{id}/tree/{rev}[/{path}]`` (``recursive``, ``expand``, paginated),
  ``POST /api/datasets/{id}/paths-info/{rev}`` (a form), and ``GET`` / ``HEAD
  /datasets/{id}/resolve/{rev}/{path}`` with ``Range``; an LFS file redirects (302) to a
  second port standing for the CDN, which serves the ranges. :meth:`FakeHub.bytes_served`
  counts the file bytes sent.

Anything else answers a 404 JSON error. Scripted faults (:meth:`FakeHub.fail`,
:meth:`FakeHub.drop_connection`) make the server misbehave a given number of times, and every
request is recorded in :attr:`FakeHub.requests`.

Only the standard library is used.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import itertools
import json
import mimetypes
import re
import socket
import sys
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

__all__ = [
    "DEFAULT_LIST_FIELDS",
    "EXPANDABLE_MODEL_PROPERTIES",
    "SORT_KEYS",
    "FakeHub",
    "RequestRecord",
    "make_record",
]

#: Properties ``GET /api/models`` returns when neither ``expand`` nor ``full`` is given
#: (``modelId`` is added, equal to ``id``). A property the record lacks is left out.
DEFAULT_LIST_FIELDS: tuple[str, ...] = (
    "_id",
    "id",
    "likes",
    "trendingScore",
    "private",
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
)

#: Extra properties added by ``full=true`` on ``GET /api/models``.
FULL_LIST_EXTRA_FIELDS: tuple[str, ...] = (
    "author",
    "sha",
    "lastModified",
    "gated",
    "disabled",
    "siblings",
)

#: Properties ``GET /api/models/{id}`` leaves out unless they are asked for with ``expand``.
MODEL_INFO_EXPAND_ONLY: frozenset[str] = frozenset(
    {
        "downloadsAllTime",
        "trendingScore",
        "childrenModelCount",
        "baseModels",
        "evalResults",
        "inferenceProviderMapping",
        "resourceGroup",
    }
)

#: Values ``expand`` accepts for models (as in ``huggingface_hub.hf_api.ExpandModelProperty_T``).
EXPANDABLE_MODEL_PROPERTIES: frozenset[str] = frozenset(
    {
        "author",
        "baseModels",
        "cardData",
        "childrenModelCount",
        "config",
        "createdAt",
        "disabled",
        "downloads",
        "downloadsAllTime",
        "evalResults",
        "gated",
        "gguf",
        "inference",
        "inferenceProviderMapping",
        "lastModified",
        "library_name",
        "likes",
        "mask_token",
        "model-index",
        "pipeline_tag",
        "private",
        "resourceGroup",
        "safetensors",
        "sha",
        "siblings",
        "spaces",
        "tags",
        "transformersInfo",
        "trendingScore",
        "usedStorage",
        "widgetData",
    }
)

#: Accepted ``sort`` values and the default used for records that lack the property.
SORT_KEYS: Mapping[str, Any] = {
    "downloads": 0,
    "likes": 0,
    "createdAt": "",
    "lastModified": "",
    "trendingScore": 0,
}

#: Largest page the real Hub serves.
HUB_MAX_PAGE_SIZE = 1000

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
_NOT_FOUND_MESSAGE = "Sorry, we can't find the page you are looking for."
_SERVER_ERROR_MESSAGES: Mapping[int, str] = {
    500: "Internal Error - We're working hard to fix this as soon as possible!",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_REVISION_SHA = re.compile(r"^[0-9a-f]{40}$")
_FILTER_CACHE_SIZE = 64
_FRAGMENT_SHAPES = 4
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the fake received, and how it was answered.

    ``status`` is ``0`` when the connection was dropped without an answer.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    headers: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    body: bytes = field(default=b"", compare=False, repr=False)


@dataclass(slots=True)
class _Fault:
    """A scripted misbehaviour (an HTTP error, or a dropped connection when ``status`` is 0)."""

    status: int
    times: int
    path_prefix: str
    after: int
    retry_after: int | None = None
    body: dict[str, Any] | None = None


def make_record(
    model_id: str,
    *,
    downloads: int = 0,
    downloads_all_time: int | None = None,
    likes: int = 0,
    created_at: str = "2025-01-01T00:00:00.000Z",
    parents: Sequence[str] = (),
    relation: str = "finetune",
    pipeline_tag: str | None = "text-generation",
    library_name: str | None = "transformers",
    gated: bool | str = False,
    license: str | None = "apache-2.0",
    children: int | None = None,
    trending_score: float = 0.0,
    extra_tags: Iterable[str] = (),
    last_modified: str | None = None,
) -> dict[str, Any]:
    """Build a realistic raw Hub record (camelCase JSON, as ``/api/models`` returns it).

    Args:
        model_id: ``"namespace/name"``; the namespace becomes ``author``.
        downloads: Downloads over the last 30 days.
        downloads_all_time: All-time downloads; defaults to ``downloads``.
        likes: Number of likes.
        created_at: ISO-8601 creation time, as the Hub formats it.
        parents: Base models; each adds ``base_model:<p>`` and ``base_model:<relation>:<p>`` tags,
            and all are listed in ``baseModels``.
        relation: ``finetune``, ``adapter``, ``quantized`` or ``merge``.
        pipeline_tag: Pipeline tag (also added to ``tags``), or ``None``.
        library_name: Library (also added to ``tags``), or ``None``.
        gated: ``False``, ``"auto"`` or ``"manual"``.
        license: Licence id (adds a ``license:<x>`` tag), or ``None``.
        children: ``childrenModelCount``, when given.
        trending_score: ``trendingScore``.
        extra_tags: More tags, placed after the library and pipeline tags.
        last_modified: ISO-8601 last modification time; defaults to ``created_at``.
    """
    parents = list(parents)
    tags: list[str] = []
    if library_name:
        tags.append(library_name)
    if pipeline_tag:
        tags.append(pipeline_tag)
    tags.extend(t for t in extra_tags if t not in tags)
    tags.extend(f"base_model:{p}" for p in parents)
    tags.extend(f"base_model:{relation}:{p}" for p in parents)
    if license:
        tags.append(f"license:{license}")
    tags.append("region:us")

    card_data: dict[str, Any] = {}
    if license:
        card_data["license"] = license
    if library_name:
        card_data["library_name"] = library_name
    if pipeline_tag:
        card_data["pipeline_tag"] = pipeline_tag
    if parents:
        card_data["base_model"] = parents[0] if len(parents) == 1 else parents
        card_data["base_model_relation"] = relation

    # Deterministic ids: a 24-hex "_id" (like a MongoDB ObjectId) and a 40-hex commit "sha".
    digest = hashlib.blake2b(model_id.encode(), digest_size=32).hexdigest()
    record: dict[str, Any] = {
        "_id": digest[:24],
        "id": model_id,
        "author": model_id.partition("/")[0],
        "sha": digest[24:],
        "createdAt": created_at,
        "lastModified": last_modified or created_at,
        "private": False,
        "disabled": False,
        "gated": gated,
        "downloads": downloads,
        "downloadsAllTime": downloads if downloads_all_time is None else downloads_all_time,
        "likes": likes,
        "trendingScore": trending_score,
        "tags": tags,
        "cardData": card_data,
    }
    if pipeline_tag:
        record["pipeline_tag"] = pipeline_tag
    if library_name:
        record["library_name"] = library_name
    if parents:
        record["baseModels"] = {"relation": relation, "models": [{"id": p} for p in parents]}
    if children is not None:
        record["childrenModelCount"] = children
    return record


def _encode_cursor(offset: int) -> str:
    raw = json.dumps({"offset": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    """Return the offset a cursor encodes; raise ``ValueError`` if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        offset = json.loads(raw)["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"Invalid cursor: {cursor!r}") from exc
    if not isinstance(offset, int) or offset < 0:
        raise ValueError(f"Invalid cursor: {cursor!r}")
    return offset


def _dumps(obj: Any) -> bytes:
    return _encode(obj).encode()


class _BadRequest(Exception):
    """A request the real Hub answers with 400."""


class _Response:
    """A response to write: status, body (JSON-encoded unless bytes), headers, content type.

    ``served`` names the ``(repo, path)`` whose content the body is, for the bytes-served
    counter.
    """

    __slots__ = ("body", "content_type", "headers", "served", "status")

    def __init__(
        self,
        status: int,
        body: Any,
        headers: Mapping[str, str] | None = None,
        *,
        content_type: str = JSON_CONTENT_TYPE,
        served: tuple[str, str] | None = None,
    ) -> None:
        self.status = status
        self.body: bytes | memoryview = (
            body if isinstance(body, bytes | memoryview) else _dumps(body)
        )
        self.headers = dict(headers or {})
        self.content_type = content_type
        self.served = served


@dataclass(frozen=True, slots=True)
class _Request:
    """A request as the routes see it: the path is still percent-encoded."""

    method: str
    path: str
    query: str
    headers: Message
    body: bytes
    cdn: bool = False
    """Whether it arrived at the CDN's port."""

    @property
    def params(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)


# ---------------------------------------------------------------------- dataset repos

#: Suffixes that the default ``.gitattributes`` of a new Hub repo stores with LFS (abridged);
#: files above :data:`LFS_THRESHOLD` go to LFS whatever their name, as the Hub requires.
LFS_SUFFIXES: tuple[str, ...] = (
    ".7z", ".arrow", ".bin", ".bz2", ".ckpt", ".gguf", ".gz", ".h5", ".jpg", ".mp3", ".msgpack",
    ".npy", ".npz", ".onnx", ".parquet", ".pickle", ".pkl", ".png", ".pt", ".pth",
    ".safetensors", ".tar", ".tgz", ".wav", ".xz", ".zip", ".zst",
)  # fmt: skip
LFS_THRESHOLD = 10 * 1024 * 1024
#: Entries per page of ``/tree``: the Hub's maximum, and its maximum with ``expand``.
TREE_PAGE_SIZE = 1000
TREE_EXPAND_PAGE_SIZE = 50
#: Where a resolved LFS file redirects to (a CDN with signed URLs on the real Hub).
CDN_PREFIX = "/cdn-lfs/"
_GITATTRIBUTES = "".join(
    f"*{suffix} filter=lfs diff=lfs merge=lfs -text\n" for suffix in LFS_SUFFIXES
).encode()
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_DATASET_API = re.compile(
    r"^/api/datasets/([^/]+)/([^/]+)(?:/(revision|tree|paths-info)(?:/(.*))?)?/?$"
)
_DATASET_RESOLVE = re.compile(r"^/datasets/([^/]+)/([^/]+)/resolve/([^/]+)/(.+)$")
_SAFE_SCAN = {
    "status": "safe",
    "avScan": {"virusFound": False, "virusNames": None},
    "pickleImportScan": None,
}


def _git_oid(kind: str, data: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class _StoredFile:
    """One version of a file: its bytes, its git id, and its LFS id when stored with LFS."""

    data: bytes
    oid: str
    sha256: str | None
    pointer_size: int | None
    commit: str
    """The commit that last changed it (``lastCommit`` with ``expand``)."""

    @classmethod
    def make(cls, data: bytes, lfs: bool, commit: str) -> _StoredFile:
        if not lfs:
            return cls(data, _git_oid("blob", data), None, None, commit)
        sha256 = hashlib.sha256(data).hexdigest()
        pointer = (
            f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {len(data)}\n"
        ).encode()
        return cls(data, _git_oid("blob", pointer), sha256, len(pointer), commit)

    @property
    def etag(self) -> str:
        return f'"{self.sha256 or self.oid}"'


@dataclass(frozen=True, slots=True)
class _Commit:
    sha: str
    title: str
    date: str
    files: Mapping[str, _StoredFile]


class _Node:
    """A directory of a commit's tree: sub-directories, files, and the git id of the tree."""

    __slots__ = ("dirs", "files", "oid", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self.dirs: dict[str, _Node] = {}
        self.files: dict[str, _StoredFile] = {}
        self.oid = ""

    def seal(self) -> str:
        parts = [f"40000 {name}\0{node.seal()}" for name, node in sorted(self.dirs.items())]
        parts += [f"100644 {name}\0{file.oid}" for name, file in sorted(self.files.items())]
        self.oid = _git_oid("tree", "".join(parts).encode())
        return self.oid


class _DatasetRepo:
    """A dataset repo: a linear history of commits on ``main``, each a complete file tree."""

    def __init__(self, repo_id: str, created_at: str) -> None:
        self.id = repo_id
        self.created_at = created_at
        self.commits: dict[str, _Commit] = {}
        self.seq: dict[str, int] = {}
        self.head: _Commit | None = None
        self._trees: OrderedDict[str, _Node] = OrderedDict()

    def commit(self, title: str, changes: Mapping[str, bytes | None], lfs: bool | None) -> str:
        parent = self.head.sha if self.head else ""
        seed = f"{self.id}\n{parent}\n{len(self.commits)}\n{title}\n{sorted(changes)}"
        sha = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()
        files = dict(self.head.files) if self.head else {}
        for path, data in changes.items():
            if data is None:
                del files[path]
            else:
                big = len(data) > LFS_THRESHOLD or path.lower().endswith(LFS_SUFFIXES)
                files[path] = _StoredFile.make(data, big if lfs is None else lfs, sha)
        self.head = self.commits[sha] = _Commit(sha, title, _now(), files)
        self.seq[sha] = len(self.seq)
        return sha

    def at(self, revision: str) -> _Commit | None:
        """The commit a revision names: ``main`` (or ``refs/heads/main``) or a commit id."""
        if revision in {"main", "refs/heads/main"}:
            return self.head
        return self.commits.get(revision)

    def tree(self, commit: _Commit) -> _Node:
        root = self._trees.get(commit.sha)
        if root is None:
            root = _Node("")
            for path, file in commit.files.items():
                node = root
                *folders, name = path.split("/")
                for folder in folders:
                    sub = node.dirs.get(folder)
                    if sub is None:
                        sub = node.dirs[folder] = _Node(f"{node.path}/{folder}".lstrip("/"))
                    node = sub
                node.files[name] = file
            root.seal()
            self._trees[commit.sha] = root
            if len(self._trees) > 8:
                self._trees.popitem(last=False)
        return root

    def find(self, commit: _Commit, path: str) -> _Node | _StoredFile | None:
        node = self.tree(commit)
        if not path:
            return node
        *folders, name = path.split("/")
        for folder in folders:
            sub = node.dirs.get(folder)
            if sub is None:
                return None
            node = sub
        return node.dirs.get(name) or node.files.get(name)

    def entry(self, path: str, item: _Node | _StoredFile, expand: bool) -> dict[str, Any]:
        """A ``/tree`` or ``/paths-info`` entry, as the Hub words it."""
        if isinstance(item, _Node):
            entry: dict[str, Any] = {"type": "directory", "oid": item.oid, "size": 0, "path": path}
            last = max(
                (f.commit for f in _walk_files(item)), key=self.seq.__getitem__, default=None
            )
        else:
            entry = {"type": "file", "oid": item.oid, "size": len(item.data), "path": path}
            if item.sha256 is not None:
                entry["lfs"] = {
                    "oid": item.sha256,
                    "size": len(item.data),
                    "pointerSize": item.pointer_size,
                }
            last = item.commit
        if expand:
            if last is not None:
                commit = self.commits[last]
                entry["lastCommit"] = {"id": commit.sha, "title": commit.title, "date": commit.date}
            if entry["type"] == "file":
                entry["securityFileStatus"] = _SAFE_SCAN
        return entry


def _walk_files(node: _Node) -> Iterator[_StoredFile]:
    yield from node.files.values()
    for sub in node.dirs.values():
        yield from _walk_files(sub)


def _walk_tree(node: _Node, recursive: bool) -> Iterator[tuple[str, _Node | _StoredFile]]:
    """A directory's entries, tree first: each sub-directory (then, when recursive, what it
    holds), then the files, by name."""
    for _, sub in sorted(node.dirs.items()):
        yield sub.path, sub
        if recursive:
            yield from _walk_tree(sub, recursive)
    for name, file in sorted(node.files.items()):
        yield f"{node.path}/{name}".lstrip("/"), file


def _parse_range(header: str | None, size: int) -> tuple[int, int] | Literal[False] | None:
    """The ``(start, end)`` (inclusive) a ``Range`` header asks for; ``None`` to send the whole
    file (no header, or one the server ignores, such as several ranges); ``False`` when the range
    cannot be satisfied (416)."""
    if header is None:
        return None
    matched = _RANGE.match(header.strip())
    if matched is None:
        return None
    first, last = matched.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            return False
        return max(0, size - suffix), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # syntactically invalid: ignored
    if start >= size:
        return False
    return start, min(end, size - 1)


class FakeHub:
    """An in-memory Hugging Face Hub (models, dataset repos), served over HTTP on 127.0.0.1.

    Records are raw Hub JSON dicts (see :func:`make_record`), keyed case-insensitively by ``id``
    like repository ids on the Hub. They are copied shallowly when added; :meth:`update` replaces
    a record instead of mutating it, so a page being served is never torn.

    Sorted orders are computed lazily and cached per sort key, and filtered result lists are
    cached per query, until the next change to the records; each model's JSON is cached per
    response shape too. Paging through 200,000 records therefore costs a slice and a join of
    cached bytes per request (about 1 ms for 1000 models once warm, ~10 ms cold).

    Records with ``"private": True`` are listed like any other (the fake has no authentication).
    """

    def __init__(
        self,
        records: Iterable[Mapping[str, Any]] = (),
        page_size: int = 1000,
        *,
        tree_page_size: int = TREE_PAGE_SIZE,
        lfs_redirect: bool = True,
    ) -> None:
        """Create the fake with ``records``; it serves pages of at most ``page_size`` models and
        of at most ``tree_page_size`` tree entries; ``lfs_redirect`` sends the ``/resolve`` of
        an LFS file to the fake CDN (as the Hub does) rather than serving it directly."""
        if page_size < 1 or tree_page_size < 1:
            raise ValueError("page_size and tree_page_size must be positive")
        self.page_size = page_size
        self.tree_page_size = tree_page_size
        self.lfs_redirect = lfs_redirect
        #: Every request received, in arrival order.
        self.requests: list[RequestRecord] = []
        #: Exceptions raised while handling requests (answered as 500s), for debugging.
        self.errors: list[BaseException] = []
        self._lock = threading.RLock()
        self._records: dict[str, dict[str, Any]] = {}
        for record in records:
            self._records[record["id"].lower()] = dict(record)
        self._sorted: dict[tuple[str | None, bool], list[dict[str, Any]]] = {}
        self._filtered: OrderedDict[tuple[Any, ...], list[dict[str, Any]]] = OrderedDict()
        self._by_author: dict[tuple[str | None, bool], dict[str, list[dict[str, Any]]]] = {}
        self._fragments: OrderedDict[
            tuple[tuple[str, ...], bool], dict[int, tuple[dict[str, Any], bytes]]
        ] = OrderedDict()
        self._faults: list[_Fault] = []
        self._datasets: dict[str, _DatasetRepo] = {}
        self._served: Counter[tuple[str, str]] = Counter()
        self._servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []
        self._connections: set[socket.socket] = set()
        self._url: str | None = None
        self._cdn_url: str | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``; pass it as ``HfApi(endpoint=...)``."""
        if self._url is None:
            raise RuntimeError("FakeHub is not started")
        return self._url

    @property
    def cdn_url(self) -> str:
        """Base URL of the fake CDN that LFS files redirect to: another origin, as on the Hub,
        so the client drops its ``Authorization`` header and stops ``HEAD`` at the redirect."""
        if self._cdn_url is None:
            raise RuntimeError("FakeHub is not started")
        return self._cdn_url

    def start(self) -> FakeHub:
        """Bind 127.0.0.1 on two free ports (the Hub, its CDN) and serve each from a daemon
        thread; return ``self``."""
        if self._servers:
            return self
        for cdn in (False, True):
            handler = type("_BoundHandler", (_Handler,), {"hub": self, "cdn": cdn})
            server = _Server(("127.0.0.1", 0), handler)
            port = server.server_address[1]
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"FakeHub{'CDN' if cdn else ''}:{port}",
                daemon=True,
            )
            self._servers.append((server, thread))
            if cdn:
                self._cdn_url = f"http://127.0.0.1:{port}"
            else:
                self._url = f"http://127.0.0.1:{port}"
            thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection (idempotent)."""
        servers, self._servers = self._servers, []
        for server, _ in servers:
            server.shutdown()
            server.server_close()
        with self._lock:
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for _, thread in servers:
            thread.join(timeout=5)

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ records

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __contains__(self, model_id: object) -> bool:
        return isinstance(model_id, str) and self.get(model_id) is not None

    def get(self, model_id: str) -> dict[str, Any] | None:
        """Return (a copy of) the record for ``model_id``, or ``None``."""
        with self._lock:
            record = self._records.get(model_id.lower())
        return dict(record) if record is not None else None

    def put(self, record: Mapping[str, Any]) -> None:
        """Add ``record``, or replace the model with the same id (case-insensitive)."""
        with self._lock:
            self._records[record["id"].lower()] = dict(record)
            self._invalidate()

    def put_many(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Add or replace several records at once (one cache invalidation)."""
        with self._lock:
            for record in records:
                self._records[record["id"].lower()] = dict(record)
            self._invalidate()

    def remove(self, model_id: str) -> None:
        """Delete a model; raise ``KeyError`` if it does not exist."""
        with self._lock:
            del self._records[model_id.lower()]
            self._invalidate()

    def update(self, model_id: str, **fields: Any) -> None:
        """Set raw (camelCase) properties of a model, e.g. ``update(id, likes=3)``.

        Raise ``KeyError`` if the model does not exist.
        """
        with self._lock:
            key = model_id.lower()
            self._records[key] = {**self._records[key], **fields}
            self._invalidate()

    def set_downloads(
        self, model_id: str, downloads: int, downloads_all_time: int | None = None
    ) -> None:
        """Set ``downloads`` (and ``downloadsAllTime`` when given) of a model."""
        fields: dict[str, Any] = {"downloads": downloads}
        if downloads_all_time is not None:
            fields["downloadsAllTime"] = downloads_all_time
        self.update(model_id, **fields)

    def _invalidate(self) -> None:
        self._sorted.clear()
        self._filtered.clear()
        self._by_author.clear()
        self._fragments.clear()

    # ------------------------------------------------------------------ dataset repos

    def create_dataset(self, repo_id: str) -> str:
        """Create an empty dataset repo (its first commit adds a ``.gitattributes``, as the Hub
        does) and return the commit id; raise ``ValueError`` if it exists."""
        if repo_id.count("/") != 1:
            raise ValueError(f"a repo id is namespace/name, not {repo_id!r}")
        with self._lock:
            if repo_id.lower() in self._datasets:
                raise ValueError(f"dataset {repo_id} exists")
            repo = self._datasets[repo_id.lower()] = _DatasetRepo(repo_id, _now())
            return repo.commit("initial commit", {".gitattributes": _GITATTRIBUTES}, lfs=False)

    def put_dataset_files(
        self,
        repo_id: str,
        files: Mapping[str, bytes],
        *,
        message: str = "Upload files",
        lfs: bool | None = None,
    ) -> str:
        """Add or replace files of a dataset repo in one commit on ``main`` (creating the repo if
        needed) and return the commit id; earlier commits stay readable by their id.

        ``lfs`` stores the files with LFS (their ``/resolve`` redirects to the fake CDN); by
        default, as the Hub's ``.gitattributes`` decides: by suffix (``.parquet``...) or above
        10 MiB.
        """
        paths = {path.strip("/"): data for path, data in files.items()}
        if not all(paths) or any(not isinstance(d, bytes) for d in paths.values()):
            raise ValueError("paths must be non-empty and data bytes")
        with self._lock:
            if repo_id.lower() not in self._datasets:
                self.create_dataset(repo_id)
            repo = self._datasets[repo_id.lower()]
            assert repo.head is not None
            clashes = [p for p in paths if _clashes(repo.head.files, p)]
            if clashes:
                raise ValueError(f"{clashes[0]!r} would be both a file and a directory")
            return repo.commit(message, paths, lfs)

    def put_dataset_file(
        self, repo_id: str, path: str, data: bytes, *, lfs: bool | None = None
    ) -> str:
        """Add or replace one file of a dataset repo; see :meth:`put_dataset_files`."""
        return self.put_dataset_files(repo_id, {path: data}, message=f"Upload {path}", lfs=lfs)

    def remove_dataset_file(self, repo_id: str, path: str) -> str:
        """Delete a file in a new commit and return its id; raise ``KeyError`` if it is absent."""
        with self._lock:
            repo = self._datasets[repo_id.lower()]
            assert repo.head is not None
            path = path.strip("/")
            if path not in repo.head.files:
                raise KeyError(path)
            return repo.commit(f"Delete {path}", {path: None}, None)

    def remove_dataset(self, repo_id: str) -> None:
        """Delete a dataset repo and its history (taken down); raise ``KeyError`` if absent."""
        with self._lock:
            del self._datasets[repo_id.lower()]

    def dataset_head(self, repo_id: str) -> str:
        """The commit id ``main`` points at; raise ``KeyError`` if the repo is absent."""
        with self._lock:
            head = self._datasets[repo_id.lower()].head
            assert head is not None
            return head.sha

    def bytes_served(self, repo_id: str | None = None, path: str | None = None) -> int:
        """File bytes sent in answers to GETs of ``/resolve`` (or of the CDN it redirects to),
        for one file, one repo, or everything; HEADs, redirects and errors send none."""
        with self._lock:
            return sum(
                n
                for (repo, file), n in self._served.items()
                if (repo_id is None or repo == repo_id.lower()) and (path is None or file == path)
            )

    def _count_served(self, served: tuple[str, str], n: int) -> None:
        with self._lock:
            self._served[served] += n

    # ------------------------------------------------------------------ faults and requests

    def fail(
        self,
        *,
        status: int,
        times: int = 1,
        path_prefix: str = "/api/models",
        after: int = 0,
        retry_after: int | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        """Script an HTTP error.

        Once ``after`` more requests whose path starts with ``path_prefix`` have been answered
        normally, the next ``times`` such requests answer ``status`` with a JSON body
        (``body``, or ``{"error": ...}`` as the Hub words it). With ``retry_after``, a 429
        carries ``Retry-After`` and the Hub's ``RateLimit`` / ``RateLimit-Policy`` headers, and
        a 503 (maintenance) ``Retry-After``. A 401/404 on a repository path carries
        ``X-Error-Code: RepoNotFound``.

        Faults are checked in the order they were scripted; the first one due fires, and a
        request that fires a fault does not count towards the ``after`` of the others.
        """
        if status < 400 or status > 599:
            raise ValueError("status must be an HTTP error status (4xx or 5xx)")
        self._add_fault(_Fault(status, times, path_prefix, after, retry_after, body))

    def drop_connection(
        self, *, times: int = 1, after: int = 0, path_prefix: str = "/api/models"
    ) -> None:
        """Script ``times`` requests to be read and then hung up on without any answer.

        The client sees a ``RemoteProtocolError`` ("Server disconnected without sending a
        response"). ``after`` and ``path_prefix`` work as in :meth:`fail`.
        """
        self._add_fault(_Fault(0, times, path_prefix, after))

    def _add_fault(self, fault: _Fault) -> None:
        if fault.times < 1 or fault.after < 0:
            raise ValueError("times must be >= 1 and after >= 0")
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        """Forget every scripted fault that has not fired yet."""
        with self._lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> int:
        """Number of scripted faults that have not completely fired yet."""
        with self._lock:
            return len(self._faults)

    def count(self, path_prefix: str = "") -> int:
        """Number of requests received whose path starts with ``path_prefix``."""
        with self._lock:
            return sum(1 for r in self.requests if r.path.startswith(path_prefix))

    def reset_requests(self) -> None:
        """Forget the recorded requests and the bytes served."""
        with self._lock:
            self.requests.clear()
            self._served.clear()

    def _take_fault(self, path: str) -> _Fault | None:
        """Return the fault that fires for a request to ``path``, updating the counters."""
        with self._lock:
            matching = [f for f in self._faults if path.startswith(f.path_prefix)]
            for fault in matching:
                if fault.after == 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
            for fault in matching:
                fault.after -= 1
            return None

    def _record(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        status: int,
        headers: Any,
        body: bytes = b"",
    ) -> None:
        record = RequestRecord(method, path, query, status, dict(headers.items()), body)
        with self._lock:
            self.requests.append(record)

    # ------------------------------------------------------------------ query engine

    def _sorted_records(self, sort: str | None, ascending: bool) -> list[dict[str, Any]]:
        """Return all records in ``sort`` order (ties by id), computed once per change."""
        key = (sort, ascending)
        with self._lock:
            cached = self._sorted.get(key)
            if cached is not None:
                return cached
            by_id = self._sorted.get((None, True))
            if by_id is None:
                by_id = sorted(self._records.values(), key=lambda r: r["id"])
                self._sorted[(None, True)] = by_id
            if sort is None:
                result = by_id if ascending else by_id[::-1]
            else:
                default = SORT_KEYS[sort]

                def value(r: dict[str, Any], k: str = sort, d: Any = default) -> Any:
                    v = r.get(k)
                    return d if v is None else v

                # Python's sort is stable, also with reverse=True: ties keep id order.
                result = sorted(by_id, key=value, reverse=not ascending)
            self._sorted[key] = result
            return result

    def _select(self, params: dict[str, list[str]]) -> list[dict[str, Any]]:
        """Return the records matching the list query, in order (cached per query)."""
        sort = _last(params, "sort")
        if sort is not None and sort not in SORT_KEYS:
            raise _BadRequest(
                f"Invalid sort parameter: {sort!r}. Expected one of: {', '.join(SORT_KEYS)}"
            )
        direction = _last(params, "direction") or "-1"
        if direction not in {"-1", "1"}:
            raise _BadRequest(f"Invalid direction parameter: {direction!r}. Expected -1 or 1")
        ascending = direction == "1" if sort is not None else True

        search = (_last(params, "search") or "").lower()
        author = (_last(params, "author") or "").lower()
        filters = tuple(
            sorted({v for name in ("filter", "other") for v in params.get(name, []) if v})
        )
        pipeline = _last(params, "pipeline_tag")
        gated_param = _last(params, "gated")
        gated: bool | None = None
        if gated_param is not None:
            if gated_param.lower() not in {"true", "false"}:
                raise _BadRequest(f"Invalid gated parameter: {gated_param!r}")
            gated = gated_param.lower() == "true"

        cache_key = (sort, ascending, search, author, filters, pipeline, gated)
        with self._lock:
            cached = self._filtered.get(cache_key)
            if cached is not None:
                self._filtered.move_to_end(cache_key)
                return cached
            ordered = self._sorted_records(sort, ascending)
            if not (search or author or filters or pipeline or gated is not None):
                return ordered
            if author and not (search or filters or pipeline or gated is not None):
                return self._author_index(sort, ascending).get(author, [])
            predicate = _make_predicate(search, author, filters, pipeline, gated)
            result = [r for r in ordered if predicate(r)]
            self._filtered[cache_key] = result
            if len(self._filtered) > _FILTER_CACHE_SIZE:
                self._filtered.popitem(last=False)
            return result

    def _author_index(self, sort: str | None, ascending: bool) -> dict[str, list[dict[str, Any]]]:
        """Records by lower-cased author, in ``sort`` order: a crawl asks for the models of a
        hundred orgs, and scanning 200,000 records for each took most of a benchmark's time."""
        key = (sort, ascending)
        with self._lock:
            index = self._by_author.get(key)
            if index is None:
                index = {}
                for r in self._sorted_records(sort, ascending):
                    owner = (r.get("author") or r["id"].partition("/")[0]).lower()
                    index.setdefault(owner, []).append(r)
                self._by_author[key] = index
            return index

    def _serialize_page(
        self, page: list[dict[str, Any]], fields: tuple[str, ...], add_model_id: bool
    ) -> bytes:
        """Return the JSON array of ``page`` shaped by ``fields``.

        Each model's JSON is cached per shape (records are never mutated in place, and a cache
        entry keeps its record alive, so ``id()`` identifies it), which makes serving a page
        already seen a join of bytes.
        """
        shape = (fields, add_model_id)
        with self._lock:
            reader = self._fragments.get(shape)
            if reader is None:
                reader = self._fragments[shape] = {}
                if len(self._fragments) > _FRAGMENT_SHAPES:
                    self._fragments.popitem(last=False)
            else:
                self._fragments.move_to_end(shape)
        parts: list[bytes] = []
        for record in page:
            entry = reader.get(id(record))
            if entry is None or entry[0] is not record:
                data = {k: record[k] for k in fields if k in record}
                if add_model_id:
                    data["modelId"] = record["id"]
                entry = reader[id(record)] = (record, _encode(data).encode())
            parts.append(entry[1])
        return b"[" + b",".join(parts) + b"]"

    # ------------------------------------------------------------------ endpoints

    def _list_models(self, params: dict[str, list[str]], pairs: list[tuple[str, str]]) -> _Response:
        """``GET /api/models``."""
        limit_param = _last(params, "limit")
        page_size = self.page_size
        if limit_param is not None:
            try:
                limit = int(limit_param)
            except ValueError:
                raise _BadRequest(f"Invalid limit parameter: {limit_param!r}") from None
            if limit < 1:
                raise _BadRequest(f"Invalid limit parameter: {limit_param!r}")
            page_size = min(page_size, limit)
        page_size = min(page_size, HUB_MAX_PAGE_SIZE)

        cursor = _last(params, "cursor")
        try:
            offset = _decode_cursor(cursor) if cursor else 0
        except ValueError as exc:
            raise _BadRequest(str(exc)) from None

        fields, add_model_id = _list_fields(params)
        selected = self._select(params)
        page = selected[offset : offset + page_size]
        body = self._serialize_page(page, fields, add_model_id)

        headers: dict[str, str] = {}
        next_offset = offset + len(page)
        if page and next_offset < len(selected):
            query = [(k, v) for k, v in pairs if k != "cursor"]
            query.append(("cursor", _encode_cursor(next_offset)))
            headers["Link"] = f'<{self.url}/api/models?{urlencode(query)}>; rel="next"'
        return _Response(200, body, headers)

    def _model_info(self, repo_id: str, params: dict[str, list[str]]) -> _Response:
        """``GET /api/models/{repo_id}``."""
        with self._lock:
            record = self._records.get(repo_id.lower())
        if record is None:
            return _repo_not_found()
        expand = _parse_expand(params)
        if expand is not None:
            return _Response(200, _project(record, ("_id", "id", *expand)))
        info = {k: v for k, v in record.items() if k not in MODEL_INFO_EXPAND_ONLY}
        info["modelId"] = record["id"]
        return _Response(200, info)

    # ------------------------------------------------------------------ dataset endpoints

    def _dataset_api(self, request: _Request, match: re.Match[str]) -> _Response:
        """``/api/datasets/{id}``, ``.../revision/{rev}``, ``.../tree/{rev}[/{path}]`` and
        ``POST .../paths-info/{rev}``."""
        namespace, name, kind, rest = match.groups()
        if (kind == "paths-info") != (request.method == "POST") or (kind and rest is None):
            return _Response(404, {"error": _NOT_FOUND_MESSAGE})
        raw_revision, _, raw_path = (rest or "main").partition("/")
        revision, path = unquote(raw_revision), unquote(raw_path).strip("/")
        with self._lock:
            repo = self._datasets.get(unquote(f"{namespace}/{name}").lower())
            commit = repo.at(revision) if repo is not None else None
        if repo is None:
            return _repo_not_found()
        if commit is None:
            return _revision_not_found(revision)
        params = request.params
        if kind == "tree":
            return self._tree(request, repo, commit, revision, path, params)
        if kind == "paths-info":
            form = parse_qs(request.body.decode(), keep_blank_values=True)
            expand = _truthy(form, "expand")
            wanted = dict.fromkeys(p.strip("/") for p in form.get("paths", []))
            with self._lock:
                found = [(p, repo.find(commit, p)) for p in wanted if p]
                return _Response(
                    200, [repo.entry(p, item, expand) for p, item in found if item is not None]
                )
        return _Response(200, self._dataset_info(repo, commit, _truthy(params, "blobs")))

    def _dataset_info(self, repo: _DatasetRepo, commit: _Commit, blobs: bool) -> dict[str, Any]:
        siblings = []
        for path, file in sorted(commit.files.items()):
            sibling: dict[str, Any] = {"rfilename": path}
            if blobs:
                sibling.update(size=len(file.data), blobId=file.oid)
                if file.sha256 is not None:
                    sibling["lfs"] = {
                        "sha256": file.sha256,
                        "size": len(file.data),
                        "pointerSize": file.pointer_size,
                    }
            siblings.append(sibling)
        return {
            "_id": hashlib.blake2b(repo.id.encode(), digest_size=12).hexdigest(),
            "id": repo.id,
            "author": repo.id.partition("/")[0],
            "sha": commit.sha,
            "lastModified": commit.date,
            "createdAt": repo.created_at,
            "private": False,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
            "usedStorage": sum(len(f.data) for f in commit.files.values()),
        }

    def _tree(
        self,
        request: _Request,
        repo: _DatasetRepo,
        commit: _Commit,
        revision: str,
        path: str,
        params: dict[str, list[str]],
    ) -> _Response:
        """One page of ``GET /api/datasets/{id}/tree/{rev}[/{path}]``."""
        recursive, expand = _truthy(params, "recursive"), _truthy(params, "expand")
        cursor = _last(params, "cursor")
        try:
            offset = _decode_cursor(cursor) if cursor else 0
        except ValueError as exc:
            raise _BadRequest(str(exc)) from None
        with self._lock:
            node = repo.find(commit, path)
            if not isinstance(node, _Node):
                return _entry_not_found(f'{path} does not exist on "{revision}"')
            listing = list(itertools.islice(_walk_tree(node, recursive), offset, None))
            page_size = min(
                self.tree_page_size, TREE_EXPAND_PAGE_SIZE if expand else TREE_PAGE_SIZE
            )
            page = [repo.entry(p, item, expand) for p, item in listing[:page_size]]
        headers: dict[str, str] = {}
        if len(listing) > page_size:
            query = [(k, v) for k, v in parse_qsl(request.query, keep_blank_values=True)]
            query = [(k, v) for k, v in query if k != "cursor"]
            query.append(("cursor", _encode_cursor(offset + page_size)))
            headers["Link"] = f'<{self.url}{request.path}?{urlencode(query)}>; rel="next"'
        return _Response(200, page, headers)

    def _resolve(self, request: _Request, match: re.Match[str]) -> _Response:
        """``GET`` / ``HEAD /datasets/{id}/resolve/{rev}/{path}``: the file, or for an LFS file a
        302 to the CDN, with the headers huggingface_hub reads."""
        namespace, name, raw_revision, raw_path = match.groups()
        revision, path = unquote(raw_revision), unquote(raw_path)
        with self._lock:
            repo = self._datasets.get(unquote(f"{namespace}/{name}").lower())
            commit = repo.at(revision) if repo is not None else None
        if repo is None:
            return _repo_not_found()
        if commit is None:
            return _revision_not_found(revision)
        file = commit.files.get(path)
        if file is None:
            return _entry_not_found("Entry not found")
        headers = {"X-Repo-Commit": commit.sha}
        if file.sha256 is not None:
            headers.update({"X-Linked-Etag": file.etag, "X-Linked-Size": str(len(file.data))})
        if file.sha256 is None or not self.lfs_redirect:
            return _file_response(request, file, (repo.id.lower(), path), headers)
        query = urlencode({"repo": repo.id, "commit": commit.sha, "path": path, "Expires": "3600"})
        location = f"{self.cdn_url}{CDN_PREFIX}{file.sha256}?{query}"
        headers["Location"] = location
        return _Response(
            302,
            f"Found. Redirecting to {location}".encode(),
            headers,
            content_type="text/plain; charset=utf-8",
        )

    def _cdn(self, request: _Request) -> _Response:
        """``GET`` / ``HEAD`` of the URL an LFS file redirects to (an S3-like CDN)."""
        sha256 = request.path[len(CDN_PREFIX) :]
        params = request.params
        repo_id, commit_id, path = (_last(params, k) or "" for k in ("repo", "commit", "path"))
        with self._lock:
            repo = self._datasets.get(repo_id.lower())
            commit = repo.commits.get(commit_id) if repo is not None else None
        file = commit.files.get(path) if commit is not None else None
        if file is None or file.sha256 != sha256:
            return _access_denied()
        return _file_response(request, file, (repo_id.lower(), path), {})

    def _route(self, request: _Request) -> _Response:
        """Answer ``request`` (its path still percent-encoded)."""
        path, query = request.path, request.query
        if request.cdn:
            if path.startswith(CDN_PREFIX) and request.method in {"GET", "HEAD"}:
                return self._cdn(request)
            return _access_denied()
        if path.startswith("/api/datasets/"):
            api = _DATASET_API.match(path)
            return (
                self._dataset_api(request, api)
                if api
                else _Response(404, {"error": _NOT_FOUND_MESSAGE})
            )
        if request.method not in {"GET", "HEAD"}:
            return _Response(404, {"error": _NOT_FOUND_MESSAGE})
        resolve = _DATASET_RESOLVE.match(path)
        if resolve is not None:
            return self._resolve(request, resolve)
        params = request.params
        if path.rstrip("/") == "/api/models":
            return self._list_models(params, parse_qsl(query, keep_blank_values=True))
        prefix = "/api/models/"
        if path.startswith(prefix):
            rest = path[len(prefix) :]
            revision: str | None = None
            if "/revision/" in rest:
                rest, revision = rest.split("/revision/", 1)
                revision = unquote(revision)
            repo_id = unquote(rest).strip("/")
            if repo_id.count("/") > 1 or not repo_id:
                # A model's files (tree, paths-info) are not served; a missing repo is named.
                owner = "/".join(repo_id.split("/")[:2])
                if "/" in owner and owner.lower() not in self._records:
                    return _repo_not_found()
                return _Response(404, {"error": _NOT_FOUND_MESSAGE})
            response = self._model_info(repo_id, params)
            if revision is not None and response.status == 200:
                record = self.get(repo_id)
                if record is not None and not _revision_exists(record, revision):
                    return _Response(
                        404,
                        {"error": f"Invalid rev id: {revision}"},
                        {"X-Error-Code": "RevisionNotFound"},
                    )
            return response
        return _Response(404, {"error": _NOT_FOUND_MESSAGE})


def _last(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[-1] if values else None


def _truthy(params: Mapping[str, list[str]], name: str) -> bool:
    value = _last(params, name)
    return value is not None and value.lower() in {"true", "1", ""}


def _parse_expand(params: Mapping[str, list[str]]) -> tuple[str, ...] | None:
    """Return the requested ``expand`` properties (``None`` when absent); 400 on unknown ones."""
    if "expand" not in params:
        return None
    values = [v for raw in params["expand"] for v in raw.split(",")]
    unknown = [v for v in values if v not in EXPANDABLE_MODEL_PROPERTIES]
    if unknown:
        raise _BadRequest(
            f'"expand" must be one of {", ".join(sorted(EXPANDABLE_MODEL_PROPERTIES))}'
            f" (got {unknown[0]!r})"
        )
    return tuple(dict.fromkeys(values))


def _project(record: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {k: record[k] for k in fields if k in record}


def _list_fields(params: Mapping[str, list[str]]) -> tuple[tuple[str, ...], bool]:
    """Return the properties each model of a ``/api/models`` page shows, and whether
    ``modelId`` is added (it is not when ``expand`` is used)."""
    expand = _parse_expand(params)
    if expand is not None:
        return ("_id", "id", *expand), False
    fields = DEFAULT_LIST_FIELDS
    if _truthy(params, "full"):
        fields = (*fields, *FULL_LIST_EXTRA_FIELDS)
    if _truthy(params, "cardData"):
        fields = (*fields, "cardData")
    if _truthy(params, "config"):
        fields = (*fields, "config")
    return fields, True


def _make_predicate(
    search: str,
    author: str,
    filters: tuple[str, ...],
    pipeline: str | None,
    gated: bool | None,
) -> Callable[[dict[str, Any]], bool]:
    def predicate(r: dict[str, Any]) -> bool:
        model_id: str = r["id"]
        if search and search not in model_id.lower():
            return False
        if author and (r.get("author") or model_id.partition("/")[0]).lower() != author:
            return False
        if pipeline is not None and r.get("pipeline_tag") != pipeline:
            return False
        if gated is not None and bool(r.get("gated")) != gated:
            return False
        if filters:
            tags = r.get("tags") or ()
            library, task = r.get("library_name"), r.get("pipeline_tag")
            for value in filters:
                if value not in tags and value != library and value != task:
                    return False
        return True

    return predicate


def _revision_exists(record: Mapping[str, Any], revision: str) -> bool:
    if revision in {"main", "refs/heads/main"} or revision == record.get("sha"):
        return True
    return bool(_REVISION_SHA.match(revision))


def _repo_not_found() -> _Response:
    return _Response(
        404,
        {"error": "Repository not found"},
        {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"},
    )


def _access_denied() -> _Response:
    """What the CDN (S3) answers for a URL it does not serve."""
    body = b"<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>AccessDenied</Code>"
    body += b"<Message>Access Denied</Message></Error>"
    return _Response(403, body, content_type="application/xml")


def _revision_not_found(revision: str) -> _Response:
    message = f"Invalid rev id: {revision}"
    return _Response(
        404, {"error": message}, {"X-Error-Code": "RevisionNotFound", "X-Error-Message": message}
    )


def _entry_not_found(message: str) -> _Response:
    return _Response(
        404, {"error": message}, {"X-Error-Code": "EntryNotFound", "X-Error-Message": message}
    )


def _clashes(files: Mapping[str, _StoredFile], path: str) -> bool:
    """Whether adding a file at ``path`` would make a file a directory or the reverse."""
    parts = path.split("/")
    if any("/".join(parts[:i]) in files for i in range(1, len(parts))):
        return True
    return any(other.startswith(path + "/") for other in files)


def _file_response(
    request: _Request, file: _StoredFile, served: tuple[str, str], headers: Mapping[str, str]
) -> _Response:
    """A file's bytes, whole (200) or the one range asked for (206), or 416."""
    size = len(file.data)
    headers = {**headers, "Accept-Ranges": "bytes", "ETag": file.etag}
    content_type = mimetypes.guess_type(served[1])[0] or "application/octet-stream"
    wanted = _parse_range(request.headers.get("Range"), size)
    if wanted is False:
        headers["Content-Range"] = f"bytes */{size}"
        return _Response(416, {"error": "Requested Range Not Satisfiable"}, headers)
    view = memoryview(file.data)
    if wanted is None:
        return _Response(200, view, headers, content_type=content_type, served=served)
    start, end = wanted
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return _Response(206, view[start : end + 1], headers, content_type=content_type, served=served)


_REPO_PATHS = ("/api/models/", "/api/datasets/", "/datasets/")


def _fault_response(fault: _Fault, path: str) -> _Response:
    headers: dict[str, str] = {}
    status = fault.status
    if fault.body is not None:
        body: dict[str, Any] = fault.body
    elif status == 429:
        body = {
            "error": "You have exceeded our hourly quotas for action 'api'. "
            "Subscribe to PRO to get higher quotas."
        }
    elif status in _SERVER_ERROR_MESSAGES:
        body = {"error": _SERVER_ERROR_MESSAGES[status]}
    elif status in {401, 404} and path.startswith(_REPO_PATHS):
        body = {"error": "Repository not found"}
    else:
        try:
            body = {"error": HTTPStatus(status).phrase}
        except ValueError:
            body = {"error": f"HTTP {status}"}
    if status in {429, 503} and fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    if status == 429 and fault.retry_after is not None:
        headers["RateLimit"] = f'"api";r=0;t={fault.retry_after}'
        headers["RateLimit-Policy"] = '"fixed window";"api";q=500;w=300'
    if status in {401, 404} and path.startswith(_REPO_PATHS):
        headers["X-Error-Code"] = "RepoNotFound"
        headers["X-Error-Message"] = "Repository not found"
    return _Response(status, body, headers)


class _Server(ThreadingHTTPServer):
    """A client that hangs up mid-answer (a killed refresh) is its own business, as on the
    real Hub: no traceback on the test's stderr."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Request handler; ``hub`` is bound on a per-server subclass."""

    hub: FakeHub
    cdn: bool
    protocol_version = "HTTP/1.1"
    server_version = "FakeHub/1.0"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # Headers and body are two writes: without this, Nagle's algorithm and the client's
        # delayed ACK held every answer on a kept-alive connection for 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.hub._lock:
            self.hub._connections.add(self.connection)

    def finish(self) -> None:
        with self.hub._lock:
            self.hub._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle(send_body=False)

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self, send_body: bool = True) -> None:
        hub = self.hub
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        path, query = split.path, split.query
        params = parse_qs(query, keep_blank_values=True)

        fault = hub._take_fault(path)
        if fault is not None and fault.status == 0:
            hub._record(self.command, path, params, 0, self.headers, body)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return

        if fault is not None:
            response = _fault_response(fault, path)
        else:
            try:
                request = _Request(self.command, path, query, self.headers, body, self.cdn)
                response = hub._route(request)
            except _BadRequest as exc:
                response = _Response(400, {"error": str(exc)})
            except Exception as exc:  # a bug in the fake: answer like a broken server
                hub.errors.append(exc)
                response = _Response(500, {"error": f"FakeHub error: {exc!r}"})

        hub._record(self.command, path, params, response.status, self.headers, body)
        request_id = self.headers.get("X-Amzn-Trace-Id") or f"Root=1-{uuid.uuid4().hex}"
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("x-request-id", request_id)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            # Counted before the write: the client may look at the counter once it has the bytes.
            if response.served is not None:
                hub._count_served(response.served, len(response.body))
            self.wfile.write(response.body)
