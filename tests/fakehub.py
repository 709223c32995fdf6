"""A fake of the Hugging Face Hub model API, served on loopback for tests and benchmarks.

The fake is meant to be driven by the *real* client::

    with FakeHub([make_record("org/model", downloads=10)]) as hub:
        api = HfApi(endpoint=hub.url, token=False)
        models = list(api.list_models(sort="downloads", expand=["downloads", "tags"]))

It implements the parts of the Hub HTTP API that ``huggingface_hub`` uses for models, with the
same wire format, pagination (``Link: <...>; rel="next"`` with an opaque cursor) and errors (JSON
``{"error": ...}`` bodies, ``X-Error-Code`` headers, ``Retry-After`` / ``RateLimit`` headers), so
the client raises the same exceptions and applies the same retries as against huggingface.co:

- ``GET /api/models``: ``search``, ``author``, ``filter`` / ``other`` (repeatable),
  ``pipeline_tag``, ``gated``, ``sort`` (+ ``direction``), ``limit``, ``expand`` (repeatable),
  ``full``, ``cardData``, ``config`` and ``cursor``.
- ``GET /api/models/{namespace}/{name}`` and ``.../revision/{revision}``, with ``expand``.

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
import json
import re
import socket
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
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
    """A response to write: status, JSON-encoded body and extra headers."""

    __slots__ = ("body", "headers", "status")

    def __init__(
        self,
        status: int,
        body: Any,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.body = body if isinstance(body, bytes) else _dumps(body)
        self.headers = dict(headers or {})


class FakeHub:
    """An in-memory Hugging Face Hub model API, served over HTTP on 127.0.0.1.

    Records are raw Hub JSON dicts (see :func:`make_record`), keyed case-insensitively by ``id``
    like repository ids on the Hub. They are copied shallowly when added; :meth:`update` replaces
    a record instead of mutating it, so a page being served is never torn.

    Sorted orders are computed lazily and cached per sort key, and filtered result lists are
    cached per query, until the next change to the records; each model's JSON is cached per
    response shape too. Paging through 200,000 records therefore costs a slice and a join of
    cached bytes per request (about 1 ms for 1000 models once warm, ~10 ms cold).

    Records with ``"private": True`` are listed like any other (the fake has no authentication).
    """

    def __init__(self, records: Iterable[Mapping[str, Any]] = (), page_size: int = 1000) -> None:
        """Create the fake with ``records``; it serves pages of at most ``page_size`` models."""
        if page_size < 1:
            raise ValueError("page_size must be positive")
        self.page_size = page_size
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
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._url: str | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``; pass it as ``HfApi(endpoint=...)``."""
        if self._url is None:
            raise RuntimeError("FakeHub is not started")
        return self._url

    def start(self) -> FakeHub:
        """Bind 127.0.0.1 on a free port and serve from a daemon thread; return ``self``."""
        if self._server is not None:
            return self
        handler = type("_BoundHandler", (_Handler,), {"hub": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._server = server
        port = server.server_address[1]
        self._url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeHub:{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

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
        (``body``, or ``{"error": ...}`` as the Hub words it). A 429 carries ``Retry-After``
        and the Hub's ``RateLimit`` / ``RateLimit-Policy`` headers when ``retry_after`` is
        given. A 401/404 on a repository path carries ``X-Error-Code: RepoNotFound``.

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
        """Forget the recorded requests."""
        with self._lock:
            self.requests.clear()

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
        self, method: str, path: str, query: dict[str, list[str]], status: int, headers: Any
    ) -> None:
        record = RequestRecord(method, path, query, status, dict(headers.items()))
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

    def _route(self, path: str, query: str) -> _Response:
        """Answer a GET request to ``path`` (still percent-encoded) with query ``query``."""
        params = parse_qs(query, keep_blank_values=True)
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
    return _Response(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"})


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
    elif status in {401, 404} and path.startswith("/api/models/"):
        body = {"error": "Repository not found"}
    else:
        try:
            body = {"error": HTTPStatus(status).phrase}
        except ValueError:
            body = {"error": f"HTTP {status}"}
    if status == 429 and fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
        headers["RateLimit"] = f'"api";r=0;t={fault.retry_after}'
        headers["RateLimit-Policy"] = '"fixed window";"api";q=500;w=300'
    if status in {401, 404} and path.startswith("/api/models/"):
        headers["X-Error-Code"] = "RepoNotFound"
        headers["X-Error-Message"] = "Repository not found"
    return _Response(status, body, headers)


class _Handler(BaseHTTPRequestHandler):
    """Request handler; ``hub`` is bound on a per-server subclass."""

    hub: FakeHub
    protocol_version = "HTTP/1.1"
    server_version = "FakeHub/1.0"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
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
        if length:
            self.rfile.read(length)
        split = urlsplit(self.path)
        path, query = split.path, split.query
        params = parse_qs(query, keep_blank_values=True)

        fault = hub._take_fault(path)
        if fault is not None and fault.status == 0:
            hub._record(self.command, path, params, 0, self.headers)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return

        if fault is not None:
            response = _fault_response(fault, path)
        elif self.command not in {"GET", "HEAD"}:
            response = _Response(404, {"error": _NOT_FOUND_MESSAGE})
        else:
            try:
                response = hub._route(path, query)
            except _BadRequest as exc:
                response = _Response(400, {"error": str(exc)})
            except Exception as exc:  # a bug in the fake: answer like a broken server
                hub.errors.append(exc)
                response = _Response(500, {"error": f"FakeHub error: {exc!r}"})

        hub._record(self.command, path, params, response.status, self.headers)
        request_id = self.headers.get("X-Amzn-Trace-Id") or f"Root=1-{uuid.uuid4().hex}"
        self.send_response(response.status)
        self.send_header("Content-Type", JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("x-request-id", request_id)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(response.body)
