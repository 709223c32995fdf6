"""A fake Slack Web API server for tests.

``FakeSlack`` runs a small HTTP server on loopback (standard library only) that the *real*
``slack_sdk.WebClient(token=..., base_url=fake.api_url)`` talks to.  It answers the handful of
Web API methods hubpulse uses the way Slack does, errors included, and records every request
as a :class:`Call` so tests can assert on what the bot actually sent::

    with FakeSlack() as fake:
        fake.add_workspace("T1", "xoxb-1", team_name="Acme")
        fake.add_channel("T1", "C1")
        client = WebClient(token="xoxb-1", base_url=fake.api_url)
        client.chat_postMessage(channel="C1", text="hi")
        assert fake.posted_texts() == ["hi"]

What it mimics, as slack_sdk sees it:

* ``POST /api/<method>`` with a form-encoded, JSON or multipart body (``GET`` with a query
  string works too).  slack_sdk sends JSON for ``chat.postMessage``/``chat.postEphemeral``/
  ``views.publish`` and form bodies for the rest; JSON-encoded form fields such as ``blocks``,
  ``attachments``, ``files`` and ``view`` are decoded before being recorded.
* API errors are HTTP 200 with ``{"ok": false, "error": ...}`` (slack_sdk raises
  ``SlackApiError``); rate limits are HTTP 429 with ``Retry-After``; outages are 5xx with an
  HTML body.
* The files upload v2 flow: ``files.getUploadURLExternal`` hands out an upload URL on this
  server, the client POSTs the raw bytes there, then ``files.completeUploadExternal``.
* Response URLs (``fake.response_url()``), which slack_sdk's ``WebhookClient`` and bolt's
  ``respond`` post JSON to; Slack answers them with plain text (``ok``, or e.g. a 400
  ``invalid_blocks`` / 404 ``expired_url``).

Like Slack, a JSON body's ``token`` field is ignored (JSON requests must use the
``Authorization: Bearer`` header); form and query ``token`` parameters are honoured.
"""

from __future__ import annotations

import base64
import contextlib
import json
import mimetypes
import secrets
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

__all__ = ["Call", "FakeSlack"]

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

#: Form fields that Slack expects as JSON-encoded strings; they are decoded when recorded.
JSON_FIELDS = ("blocks", "attachments", "files", "view", "metadata", "user_auth_blocks")

#: Methods whose recorded ``text`` counts as "posted" for :meth:`FakeSlack.posted_texts`.
POSTING_METHODS = ("chat.postMessage", "chat.postEphemeral", "response_url")

_TZ_LABELS = {
    "UTC": "Coordinated Universal Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "WET": "Western European Time",
    "WEST": "Western European Summer Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EET": "Eastern European Time",
    "EEST": "Eastern European Summer Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "JST": "Japan Standard Time",
    "IST": "India Standard Time",
}


@dataclass
class Call:
    """One request the fake received.

    ``method`` is the Web API method (``"chat.postMessage"``), ``"response_url"`` for a post
    to a response URL, or ``"upload"`` for the file bytes of the upload v2 flow.  Every request
    is recorded, including the ones answered with an error; ``status``/``error`` tell which.
    """

    method: str
    token: str | None
    params: dict[str, Any]
    files: dict[str, bytes]
    team_id: str | None
    path: str = ""
    status: int = 200
    error: str | None = None
    response: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """Whether the fake answered this call successfully."""
        return self.status == 200 and self.error is None


@dataclass
class _User:
    id: str
    team_id: str
    name: str
    tz: str
    is_bot: bool = False


@dataclass
class _Channel:
    id: str
    name: str
    is_member: bool
    is_archived: bool
    is_private: bool
    created: int


@dataclass
class _Workspace:
    team_id: str
    team_name: str
    bot_user_id: str
    bot_id: str
    enterprise_id: str | None
    users: dict[str, _User] = field(default_factory=dict)
    channels: dict[str, _Channel] = field(default_factory=dict)
    dms: dict[str, str] = field(default_factory=dict)  # dm channel id -> user id

    @property
    def domain(self) -> str:
        """The workspace's subdomain, as in ``https://<domain>.slack.com``."""
        base = self.team_name or self.team_id
        return "".join(ch for ch in base.lower() if ch.isalnum() or ch == "-") or "team"


@dataclass
class _Fault:
    kind: str  # "error" | "ratelimit" | "http"
    error: str = ""
    retry_after: int = 1
    status: int = 200


@dataclass
class _OAuthGrant:
    team_id: str
    team_name: str
    bot_token: str
    bot_user_id: str
    scope: str
    enterprise_id: str | None
    authed_user_id: str


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class _Upload:
    file_id: str
    team_id: str
    filename: str
    length: int
    user_id: str
    created: int
    title: str = ""
    uploaded: bool = False
    completed: bool = False
    channels: list[str] = field(default_factory=list)


class _SlackError(Exception):
    """Raised inside a method implementation to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _json_reply(data: dict[str, Any], status: int = 200, **headers: str) -> _Reply:
    body = json.dumps(data).encode("utf-8")
    error = None if data.get("ok") else str(data.get("error", "unknown_error"))
    hdrs = {"X-Slack-Req-Id": secrets.token_hex(16), **headers}
    return _Reply(status, body, JSON_TYPE, hdrs, data=data, error=error)


def _text_reply(text: str, status: int = 200, content_type: str = TEXT_TYPE) -> _Reply:
    error = None if status == 200 else text
    return _Reply(status, text.encode("utf-8"), content_type, error=error)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _error_reply(error: str, **extra: Any) -> _Reply:
    return _json_reply({"ok": False, "error": error, **extra})


def _header_param(value: str, name: str, header: str = "content-disposition") -> str | None:
    msg = Message()
    msg[header] = value
    param = msg.get_param(name, header=header)
    if param is None or isinstance(param, tuple):
        return None
    return str(param)


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Split a multipart/form-data body into (fields, files) without touching the bytes."""
    boundary = _header_param(content_type, "boundary", header="content-type")
    if not boundary:
        raise _SlackError("invalid_form_data")
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    for section in body.split(b"--" + boundary.encode("latin-1"))[1:]:
        if section.startswith(b"--"):
            break
        if section.startswith(b"\r\n"):
            section = section[2:]
        head, _, content = section.partition(b"\r\n\r\n")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        disposition = ""
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-disposition":
                disposition = value.strip()
        name = _header_param(disposition, "name") or ""
        if _header_param(disposition, "filename") is not None:
            files[name] = content
        else:
            params[name] = content.decode("utf-8", "replace")
    return params, files


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, bytes], bool]:
    """Parse a request body; returns (params, files, is_json)."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/json":
        if not body.strip():
            return {}, {}, True
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise _SlackError("invalid_json") from exc
        if not isinstance(data, dict):
            raise _SlackError("json_not_object")
        return data, {}, True
    if ctype == "multipart/form-data":
        params, files = _parse_multipart(content_type, body)
        return params, files, False
    if not body:
        return {}, {}, False
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)), {}, False


def _decode_json_fields(params: dict[str, Any]) -> None:
    for name in JSON_FIELDS:
        value = params.get(name)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            # an undecodable value stays a string; the method's validation reports it
            with contextlib.suppress(ValueError):
                params[name] = json.loads(value)


def _text_object_errors(
    obj: Any, pointer: str, limit: int, *, plain_only: bool = False
) -> list[str]:
    if not isinstance(obj, dict):
        return [f"must provide an object [json-pointer:{pointer}]"]
    kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in kinds:
        return [f"must be one of {', '.join(kinds)} [json-pointer:{pointer}/type]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be more than 0 characters [json-pointer:{pointer}/text]"]
    if len(text) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}/text]"]
    return []


def _block_errors(blocks: Any, *, max_blocks: int = 50, root: str = "/blocks") -> list[str]:
    """Validate blocks roughly like Slack does; returns Slack-style error strings."""
    if not isinstance(blocks, list):
        return [f"must provide an array [json-pointer:{root}]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"no more than {max_blocks} items allowed [json-pointer:{root}]")
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        ptr = f"{root}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"missing required field: type [json-pointer:{ptr}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or not block_id or len(block_id) > 255:
                errors.append(f"must be 1-255 characters [json-pointer:{ptr}/block_id]")
            elif block_id in seen_ids:
                errors.append(f"duplicate block_id [json-pointer:{ptr}/block_id]")
            else:
                seen_ids.add(block_id)
        kind = block["type"]
        if kind == "section":
            if "text" not in block and "fields" not in block:
                errors.append(f"must provide text or fields [json-pointer:{ptr}]")
            if "text" in block:
                errors += _text_object_errors(block["text"], f"{ptr}/text", 3000)
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    errors.append(f"no more than 10 items allowed [json-pointer:{ptr}/fields]")
                else:
                    for j, fld in enumerate(fields):
                        errors += _text_object_errors(fld, f"{ptr}/fields/{j}", 2000)
        elif kind == "header":
            errors += _text_object_errors(block.get("text"), f"{ptr}/text", 150, plain_only=True)
        elif kind in ("context", "actions"):
            limit = 10 if kind == "context" else 25
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements or len(elements) > limit:
                errors.append(f"must provide 1-{limit} items [json-pointer:{ptr}/elements]")
        elif kind == "image":
            for name in ("alt_text",):
                if not isinstance(block.get(name), str) or not block[name]:
                    errors.append(f"missing required field: {name} [json-pointer:{ptr}]")
            if not block.get("image_url") and not block.get("slack_file"):
                errors.append(f"missing required field: image_url [json-pointer:{ptr}]")
    return errors


def _raise_block_errors(errors: list[str], error: str = "invalid_blocks") -> None:
    if errors:
        raise _SlackError(
            error,
            errors=errors,
            response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeSlack) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def do_GET(self) -> None:
        """Serve a GET (query parameters only)."""
        self._dispatch()

    def do_POST(self) -> None:
        """Serve a POST (form, JSON, multipart or raw body)."""
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = self.server.fake._handle(self.command, self.path, headers, body)
        except Exception:  # a bug in the fake: make it loud, but keep serving
            trace = traceback.format_exc()
            self.server.fake.server_errors.append(trace)
            reply = _text_reply(f"fakeslack internal error\n{trace}", 500)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)


class FakeSlack:
    """A fake Slack Web API server on ``127.0.0.1:<random port>``.

    The socket is bound in the constructor, so :attr:`url`/:attr:`api_url` are usable right
    away; :meth:`start` begins serving in a daemon thread (or use it as a context manager).
    All state is guarded by one lock; :attr:`calls` grows as requests arrive.
    """

    #: ``app_id`` reported by oauth.v2.access and on posted messages.
    APP_ID = "A0HUBPULSE"
    #: The bot user's name, as ``auth.test`` reports it.
    BOT_NAME = "hubpulse"

    def __init__(self) -> None:
        """Bind the loopback socket (port 0) without serving yet."""
        self._server = _Server(self)
        port = self._server.server_address[1]
        self.url: str = f"http://127.0.0.1:{port}"
        self.api_url: str = f"{self.url}/api/"
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._workspaces: dict[str, _Workspace] = {}
        self._tokens: dict[str, str] = {}  # bot token -> team id
        self._revoked: set[str] = set()
        self._faults: dict[str, deque[_Fault]] = {}
        self._every: dict[str, tuple[int, int]] = {}  # method -> (every nth call, retry after)
        self._seen: dict[str, int] = {}  # calls of a method with a periodic fault, so far
        self._oauth: dict[str, _OAuthGrant] = {}
        self._response_urls: dict[str, str] = {}  # response id -> key
        self._uploads: dict[str, _Upload] = {}
        self._counter = 0
        self._ts_micros = 1_700_000_000_000_000
        #: Every request received, in arrival order.
        self.calls: list[Call] = []
        #: Uploaded file bytes by file id (filled by the upload step of files_upload_v2).
        self.files: dict[str, bytes] = {}
        #: Messages (including file shares) posted per channel id, oldest first.
        self.messages: dict[str, list[dict[str, Any]]] = {}
        #: The last Home tab view published per user id.
        self.home_views: dict[str, dict[str, Any]] = {}
        #: If set, oauth.v2.access insists on these client credentials.
        self.client_id: str | None = None
        self.client_secret: str | None = None
        #: Tracebacks of exceptions raised inside the fake (answered as HTTP 500).
        self.server_errors: list[str] = []
        self._methods: dict[str, Callable[[Call, _Workspace], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "conversations.open": self._conversations_open,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "files.info": self._files_info,
            "files.upload": self._files_upload_v1,
            "apps.uninstall": self._apps_uninstall,
            "team.info": self._team_info,
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        """Start serving in a daemon thread; returns ``self``.  Idempotent."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.01},
                name=f"fakeslack-{self._server.server_address[1]}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket.  Idempotent."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        """Start the server."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop the server."""
        self.stop()

    # ------------------------------------------------------------------ setup

    def add_workspace(
        self,
        team_id: str,
        bot_token: str,
        *,
        team_name: str = "",
        bot_user_id: str = "UBOT",
        enterprise_id: str | None = None,
    ) -> None:
        """Install the app in a workspace: ``bot_token`` now authenticates as that team's bot.

        Calling it again for the same team adds another valid token and updates the details.
        """
        with self._lock:
            ws = self._workspaces.get(team_id)
            if ws is None:
                ws = _Workspace(
                    team_id=team_id,
                    team_name=team_name or team_id,
                    bot_user_id=bot_user_id,
                    bot_id=f"B{team_id}",
                    enterprise_id=enterprise_id,
                )
                self._workspaces[team_id] = ws
            else:
                ws.team_name = team_name or ws.team_name
                ws.bot_user_id = bot_user_id
                ws.enterprise_id = enterprise_id
            ws.users.setdefault(
                bot_user_id, _User(bot_user_id, team_id, self.BOT_NAME, "UTC", is_bot=True)
            )
            self._tokens[bot_token] = team_id
            self._revoked.discard(bot_token)

    def add_user(self, team_id: str, user_id: str, *, tz: str = "UTC", name: str = "") -> None:
        """Add a human user (``tz`` is an IANA zone name such as ``"Europe/Berlin"``)."""
        ZoneInfo(tz)  # fail fast on a typo
        with self._lock:
            ws = self._workspace(team_id)
            ws.users[user_id] = _User(user_id, team_id, name or user_id.lower(), tz)

    def add_channel(
        self,
        team_id: str,
        channel_id: str,
        *,
        member: bool = True,
        archived: bool = False,
        is_private: bool = False,
        name: str = "",
    ) -> None:
        """Add a channel; ``member`` says whether the bot is in it."""
        with self._lock:
            ws = self._workspace(team_id)
            ws.channels[channel_id] = _Channel(
                id=channel_id,
                name=name or channel_id.lower(),
                is_member=member,
                is_archived=archived,
                is_private=is_private,
                created=int(time.time()),
            )

    def response_url(self, key: str = "") -> str:
        """Return a fresh response URL on this server (``<url>/response/<id>``).

        Posts to it are recorded as ``Call(method="response_url", params=<JSON body>)`` whose
        ``path`` is the URL's path; ``key`` is only a readable prefix of the id.
        """
        with self._lock:
            self._counter += 1
            safe = "".join(ch for ch in key if ch.isalnum() or ch in "-_")
            rid = f"{safe}-{self._counter}" if safe else f"r{self._counter}"
            rid = f"{rid}-{secrets.token_hex(4)}"
            self._response_urls[rid] = key
        return f"{self.url}/response/{rid}"

    def set_oauth_result(
        self,
        code: str,
        *,
        team_id: str,
        bot_token: str,
        bot_user_id: str = "UBOT",
        scope: str = "commands,chat:write",
        enterprise_id: str | None = None,
        team_name: str = "",
        authed_user_id: str = "UINSTALLER",
    ) -> None:
        """Make ``oauth.v2.access`` with ``code`` install the app (codes are single-use).

        A successful exchange also registers ``bot_token`` as with :meth:`add_workspace`.
        """
        with self._lock:
            self._oauth[code] = _OAuthGrant(
                team_id=team_id,
                team_name=team_name or team_id,
                bot_token=bot_token,
                bot_user_id=bot_user_id,
                scope=scope,
                enterprise_id=enterprise_id,
                authed_user_id=authed_user_id,
            )

    # ------------------------------------------------------------------ fault injection

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP 200 ``{"ok": false, ...}``."""
        self._add_fault(method, _Fault("error", error=error), times)

    def rate_limit(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP 429 + ``Retry-After``."""
        self._add_fault(method, _Fault("ratelimit", retry_after=retry_after, status=429), times)

    def fail_http(self, method: str, status: int = 503, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with a non-JSON HTTP error.

        ``method`` may be ``"response_url"`` (a 404 then answers ``expired_url``) or
        ``"upload"``.  Faults of all kinds are consumed in the order they were added.
        """
        self._add_fault(method, _Fault("http", status=status), times)

    def rate_limit_every(self, method: str, every: int, *, retry_after: int = 1) -> None:
        """Answer every ``every``-th call of ``method`` with HTTP 429 + ``Retry-After`` from
        now on (``every=0`` stops); scripted faults of ``fail``/``rate_limit`` come first.

        ``method`` may be ``"response_url"``, which answers ``rate_limited`` as plain text."""
        with self._lock:
            self._seen[method] = 0
            if every:
                self._every[method] = (every, retry_after)
            else:
                self._every.pop(method, None)

    def revoke(self, bot_token: str) -> None:
        """Revoke a token: its calls now answer ``token_revoked``."""
        with self._lock:
            self._revoked.add(bot_token)

    def _add_fault(self, method: str, fault: _Fault, times: int) -> None:
        with self._lock:
            self._faults.setdefault(method, deque()).extend([fault] * times)

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[Call]:
        """All recorded calls of ``method`` (including failed ones), in order."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def posted_texts(self) -> list[str]:
        """``text`` of every successful chat.postMessage / chat.postEphemeral / response_url."""
        with self._lock:
            return [
                str(c.params.get("text") or "")
                for c in self.calls
                if c.method in POSTING_METHODS and c.ok
            ]

    def clear_calls(self) -> None:
        """Forget the recorded calls (state such as messages and files is kept)."""
        with self._lock:
            self.calls.clear()

    def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 5.0) -> list[Call]:
        """Block until ``predicate(calls)`` is true and return that snapshot of the calls.

        Raises ``AssertionError`` listing the calls received if ``timeout`` seconds pass.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                snapshot = list(self.calls)
                if predicate(snapshot):
                    return snapshot
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"fakeslack: condition not met within {timeout}s; "
                        f"{len(snapshot)} call(s) received:\n{self.summary(snapshot)}"
                    )
                self._cond.wait(remaining)

    def summary(self, calls: list[Call] | None = None) -> str:
        """A readable one-line-per-call listing (for assertion messages)."""
        lines = []
        for i, c in enumerate(self.calls if calls is None else calls):
            shown = {k: v for k, v in c.params.items() if k not in ("blocks", "view")}
            extra = (
                f" blocks={len(c.params['blocks'])}"
                if isinstance(c.params.get("blocks"), list)
                else ""
            )
            outcome = "ok" if c.ok else f"{c.status} {c.error}"
            lines.append(f"  #{i} {c.method} team={c.team_id} [{outcome}] {shown!r:.200}{extra}")
        return "\n".join(lines) or "  (none)"

    # ------------------------------------------------------------------ request handling

    def _workspace(self, team_id: str) -> _Workspace:
        try:
            return self._workspaces[team_id]
        except KeyError:
            raise ValueError(f"unknown team {team_id!r}: call add_workspace() first") from None

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:010d}"

    def _next_ts(self) -> str:
        self._ts_micros += 100
        return f"{self._ts_micros // 1_000_000}.{self._ts_micros % 1_000_000:06d}"

    def _handle(self, verb: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> _Reply:
        parts = urlsplit(raw_path)
        path = parts.path
        query: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
        if path.startswith("/api/") and len(path) > len("/api/"):
            return self._handle_api(unquote(path[len("/api/") :]), path, query, headers, body)
        if path.startswith("/upload/") and verb == "POST":
            return self._handle_upload(unquote(path[len("/upload/") :]), path, headers, body)
        if path.startswith("/response/") and verb == "POST":
            return self._handle_response_url(unquote(path[len("/response/") :]), path, body)
        return _text_reply("not found", 404)

    def _periodic_fault(self, method: str) -> _Reply | None:
        if method not in self._every:
            return None
        every, retry_after = self._every[method]
        self._seen[method] = self._seen.get(method, 0) + 1
        if self._seen[method] % every:
            return None
        if method == "response_url":
            reply = _text_reply("rate_limited", 429)
            reply.headers["Retry-After"] = str(retry_after)
            return reply
        return _json_reply(
            {"ok": False, "error": "ratelimited"}, 429, **{"Retry-After": str(retry_after)}
        )

    def _take_fault(self, method: str) -> _Reply | None:
        queue = self._faults.get(method)
        if not queue:
            return self._periodic_fault(method)
        fault = queue.popleft()
        if fault.kind == "error":
            return _error_reply(fault.error)
        if fault.kind == "ratelimit":
            return _json_reply(
                {"ok": False, "error": "ratelimited"},
                429,
                **{"Retry-After": str(fault.retry_after)},
            )
        if method == "response_url" and fault.status == 404:
            return _text_reply("expired_url", 404)
        page = (
            f"<html><head><title>{fault.status} {_reason(fault.status)}</title></head>"
            f"<body><h1>Slack is having trouble</h1><p>Error {fault.status}</p></body></html>"
        )
        return _text_reply(page, fault.status, HTML_TYPE)

    def _record(self, call: Call, reply: _Reply) -> None:
        call.status = reply.status
        call.error = reply.error
        call.response = reply.data
        self.calls.append(call)
        self._cond.notify_all()

    def _handle_api(
        self,
        method: str,
        path: str,
        query: dict[str, Any],
        headers: Mapping[str, str],
        body: bytes,
    ) -> _Reply:
        parse_error: str | None = None
        try:
            params, files, is_json = _parse_body(headers.get("content-type") or "", body)
        except _SlackError as exc:
            params, files, is_json, parse_error = {}, {}, True, exc.error
        merged = {**query, **params}
        body_token = merged.pop("token", None)
        if is_json:  # Slack ignores a token inside a JSON body
            body_token = query.get("token")
        _decode_json_fields(merged)
        authorization = headers.get("authorization") or ""
        token: str | None = None
        if authorization.lower().startswith("bearer "):
            token = authorization[len("bearer ") :].strip() or None
        if token is None and isinstance(body_token, str) and body_token:
            token = body_token
        with self._lock:
            call = Call(method, token, merged, files, self._tokens.get(token or ""), path=path)
            reply = self._take_fault(method)
            if reply is None:
                if parse_error is not None:
                    reply = _error_reply(parse_error)
                else:
                    reply = self._run_method(call, authorization)
            self._record(call, reply)
            return reply

    def _run_method(self, call: Call, authorization: str) -> _Reply:
        try:
            if call.method == "oauth.v2.access":
                return _json_reply(self._oauth_v2_access(call, authorization))
            if call.method == "api.test":  # needs no token, like Slack's
                return _json_reply({"ok": True, "args": dict(call.params)})
            impl = self._methods.get(call.method)
            if impl is None:
                return _error_reply("unknown_method", req_method=call.method)
            if call.token is None:
                return _error_reply("not_authed")
            if call.token in self._revoked:
                return _error_reply("token_revoked")
            if call.team_id is None:
                return _error_reply("invalid_auth")
            return _json_reply(impl(call, self._workspaces[call.team_id]))
        except _SlackError as exc:
            return _error_reply(exc.error, **exc.extra)

    def _handle_upload(
        self, file_id: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> _Reply:
        content_type = headers.get("content-type") or ""
        data = body
        if content_type.lower().startswith("multipart/form-data"):
            try:
                _, parts = _parse_multipart(content_type, body)
            except _SlackError:
                parts = {}
            data = next(iter(parts.values()), b"")
        with self._lock:
            upload = self._uploads.get(file_id)
            call = Call(
                "upload",
                None,
                {"filename": upload.filename} if upload else {},
                {file_id: data},
                upload.team_id if upload else None,
                path=path,
            )
            reply = self._take_fault("upload")
            if reply is None:
                if upload is None or upload.completed:
                    reply = _text_reply("not found", 404)
                else:
                    upload.uploaded = True
                    self.files[file_id] = data
                    reply = _text_reply(f"OK - {len(data)}")
            self._record(call, reply)
            return reply

    def _handle_response_url(self, rid: str, path: str, body: bytes) -> _Reply:
        payload: dict[str, Any] | None
        try:
            loaded = json.loads(body) if body.strip() else None
            payload = loaded if isinstance(loaded, dict) else None
        except ValueError:
            payload = None
        with self._lock:
            call = Call("response_url", None, payload or {}, {}, None, path=path)
            reply = self._take_fault("response_url")
            if reply is None:
                if rid not in self._response_urls:
                    reply = _text_reply("expired_url", 404)
                elif payload is None:
                    reply = _text_reply("invalid_payload", 400)
                elif not payload.get("delete_original") and not (
                    payload.get("text") or payload.get("blocks") or payload.get("attachments")
                ):
                    reply = _text_reply("no_text", 400)
                elif "blocks" in payload and _block_errors(payload["blocks"]):
                    reply = _text_reply("invalid_blocks", 400)
                else:
                    reply = _text_reply("ok")
            self._record(call, reply)
            return reply

    # ------------------------------------------------------------------ helpers for methods

    def _resolve_channel(self, ws: _Workspace, channel: Any) -> tuple[str, _Channel | None]:
        """Map a ``channel`` argument to (channel id, channel or None for a DM)."""
        if not isinstance(channel, str) or not channel:
            raise _SlackError("channel_not_found")
        if channel.startswith("#"):
            named = [c for c in ws.channels.values() if c.name == channel[1:]]
            if not named:
                raise _SlackError("channel_not_found")
            channel = named[0].id
        if channel in ws.users and not ws.users[channel].is_bot:  # posting to a user = app DM
            return self._open_dm(ws, channel), None
        if channel in ws.dms:
            return channel, None
        ch = ws.channels.get(channel)
        if ch is None or (ch.is_private and not ch.is_member):
            raise _SlackError("channel_not_found")
        return ch.id, ch

    def _postable_channel(self, ws: _Workspace, channel: Any) -> str:
        channel_id, ch = self._resolve_channel(ws, channel)
        if ch is not None:
            if ch.is_archived:
                raise _SlackError("is_archived")
            if not ch.is_member:
                raise _SlackError("not_in_channel")
        return channel_id

    @staticmethod
    def _open_dm(ws: _Workspace, user_id: str) -> str:
        dm_id = f"D{user_id}"
        ws.dms[dm_id] = user_id
        return dm_id

    @staticmethod
    def _check_content(params: dict[str, Any]) -> tuple[str, Any, Any]:
        text = params.get("text")
        text = "" if text is None else str(text)
        blocks = params.get("blocks")
        attachments = params.get("attachments")
        if blocks is not None:
            if isinstance(blocks, str):
                raise _SlackError("invalid_blocks_format")
            _raise_block_errors(_block_errors(blocks))
        if attachments is not None and not isinstance(attachments, list):
            raise _SlackError("invalid_attachments")
        if not text.strip() and not blocks and not attachments:
            raise _SlackError("no_text")
        if len(text) > 40_000:
            raise _SlackError("msg_too_long")
        return text, blocks, attachments

    def _file_object(self, upload: _Upload, ws: _Workspace) -> dict[str, Any]:
        name = upload.filename
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else "binary"
        url_private = f"{self.url}/files-pri/{ws.team_id}-{upload.file_id}/{name}"
        known = [ws.channels[c] for c in upload.channels if c in ws.channels]
        public = [c.id for c in known if not c.is_private]
        private = [c.id for c in known if c.is_private]
        ims = [c for c in upload.channels if c in ws.dms]
        return {
            "id": upload.file_id,
            "created": upload.created,
            "timestamp": upload.created,
            "name": name,
            "title": upload.title or name,
            "mimetype": mimetypes.guess_type(name)[0] or "application/octet-stream",
            "filetype": ext,
            "pretty_type": ext.upper(),
            "user": upload.user_id,
            "user_team": ws.team_id,
            "editable": False,
            "size": len(self.files.get(upload.file_id, b"")),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(public),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": url_private,
            "url_private_download": url_private.replace("/files-pri/", "/files-pri/download/"),
            "permalink": f"https://{ws.domain}.slack.com/files/{upload.user_id}/"
            f"{upload.file_id}/{name}",
            "permalink_public": f"https://slack-files.com/{ws.team_id}-{upload.file_id}-fake",
            "channels": public,
            "groups": private,
            "ims": ims,
            "comments_count": 0,
            "shares": {},
        }

    # ------------------------------------------------------------------ Web API methods

    def _auth_test(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{ws.domain}.slack.com/",
            "team": ws.team_name,
            "user": self.BOT_NAME,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "enterprise_id": ws.enterprise_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        p = call.params
        channel_id = self._postable_channel(ws, p.get("channel"))
        text, blocks, attachments = self._check_content(p)
        ts = self._next_ts()
        message: dict[str, Any] = {
            "user": ws.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": ws.bot_id,
            "app_id": self.APP_ID,
            "text": text,
            "team": ws.team_id,
        }
        if blocks:
            message["blocks"] = blocks
        if attachments:
            message["attachments"] = attachments
        if p.get("thread_ts"):
            message["thread_ts"] = str(p["thread_ts"])
        if p.get("metadata"):
            message["metadata"] = p["metadata"]
        self.messages.setdefault(channel_id, []).append(message)
        return {"ok": True, "channel": channel_id, "ts": ts, "message": message}

    def _chat_post_ephemeral(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        p = call.params
        self._postable_channel(ws, p.get("channel"))
        user = ws.users.get(str(p.get("user") or ""))
        if user is None or user.is_bot:
            raise _SlackError("user_not_in_channel")
        self._check_content(p)
        return {"ok": True, "message_ts": self._next_ts()}

    def _find_message(self, ws: _Workspace, call: Call) -> tuple[str, dict[str, Any]]:
        channel_id, _ = self._resolve_channel(ws, call.params.get("channel"))
        ts = str(call.params.get("ts") or "")
        for message in self.messages.get(channel_id, []):
            if message["ts"] == ts:
                if message.get("user") != ws.bot_user_id:
                    raise _SlackError("cant_update_message")
                return channel_id, message
        raise _SlackError("message_not_found")

    def _chat_update(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        channel_id, message = self._find_message(ws, call)
        text, blocks, attachments = self._check_content(call.params)
        message["text"] = text
        for name, value in (("blocks", blocks), ("attachments", attachments)):
            if value is not None:
                message[name] = value
        return {
            "ok": True,
            "channel": channel_id,
            "ts": message["ts"],
            "text": text,
            "message": message,
        }

    def _chat_delete(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        channel_id, message = self._find_message(ws, call)
        self.messages[channel_id].remove(message)
        return {"ok": True, "channel": channel_id, "ts": message["ts"]}

    def _users_info(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        user = ws.users.get(str(call.params.get("user") or ""))
        if user is None:
            raise _SlackError("user_not_found")
        now = datetime.now(ZoneInfo(user.tz))
        offset = now.utcoffset()
        abbrev = now.tzname() or user.tz
        return {
            "ok": True,
            "user": {
                "id": user.id,
                "team_id": user.team_id,
                "name": user.name,
                "deleted": False,
                "real_name": user.name,
                "tz": user.tz,
                "tz_label": _TZ_LABELS.get(abbrev, abbrev),
                "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
                "is_bot": user.is_bot,
                "is_app_user": False,
                "profile": {
                    "real_name": user.name,
                    "display_name": user.name,
                    "team": user.team_id,
                },
            },
        }

    @staticmethod
    def _channel_object(ch: _Channel) -> dict[str, Any]:
        return {
            "id": ch.id,
            "name": ch.name,
            "name_normalized": ch.name,
            "created": ch.created,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": ch.is_private,
            "is_archived": ch.is_archived,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": ch.is_member,
        }

    def _conversations_info(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        channel_id, ch = self._resolve_channel(ws, call.params.get("channel"))
        if ch is None:
            user_id = ws.dms[channel_id]
            dm = {
                "id": channel_id,
                "is_im": True,
                "user": user_id,
                "is_org_shared": False,
                "created": int(time.time()),
            }
            return {"ok": True, "channel": dm}
        return {"ok": True, "channel": self._channel_object(ch)}

    def _conversations_join(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        _, ch = self._resolve_channel(ws, call.params.get("channel"))
        if ch is None or ch.is_private:
            raise _SlackError("method_not_supported_for_channel_type")
        if ch.is_archived:
            raise _SlackError("is_archived")
        result: dict[str, Any] = {"ok": True}
        if ch.is_member:
            result["warning"] = "already_in_channel"
            result["response_metadata"] = {"warnings": ["already_in_channel"]}
        ch.is_member = True
        result["channel"] = self._channel_object(ch)
        return result

    def _conversations_open(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        users = [u for u in str(call.params.get("users") or "").split(",") if u]
        if not users:
            raise _SlackError("users_list_not_supplied")
        if len(users) != 1:
            raise _SlackError("method_not_supported_for_channel_type")
        if users[0] not in ws.users:
            raise _SlackError("user_not_found")
        return {"ok": True, "channel": {"id": self._open_dm(ws, users[0])}}

    def _views_publish(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        user_id = call.params.get("user_id")
        view = call.params.get("view")
        if not user_id or not isinstance(view, dict):
            raise _SlackError("invalid_arguments")
        if view.get("type") != "home":
            raise _SlackError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] must be home [json-pointer:/view/type]"]},
            )
        _raise_block_errors(
            _block_errors(view.get("blocks"), max_blocks=100, root="/view/blocks"),
            "invalid_arguments",
        )
        published = {
            "id": self._next_id("V"),
            "team_id": ws.team_id,
            "type": "home",
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": secrets.token_hex(8),
            "title": view.get("title"),
            "close": None,
            "submit": None,
            "root_view_id": None,
            "previous_view_id": None,
            "app_id": self.APP_ID,
            "bot_id": ws.bot_id,
        }
        published["root_view_id"] = published["id"]
        self.home_views[str(user_id)] = published
        return {"ok": True, "view": published}

    def _files_get_upload_url(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        filename = call.params.get("filename")
        length = call.params.get("length")
        try:
            size = int(length) if length is not None else -1
        except (TypeError, ValueError):
            size = -1
        if not filename or size < 0:
            raise _SlackError("invalid_arguments")
        file_id = self._next_id("F")
        self._uploads[file_id] = _Upload(
            file_id=file_id,
            team_id=ws.team_id,
            filename=str(filename),
            length=size,
            user_id=ws.bot_user_id,
            created=int(time.time()),
        )
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        items = call.params.get("files")
        if not isinstance(items, list) or not items:
            raise _SlackError("invalid_arguments")
        uploads: list[tuple[_Upload, dict[str, Any]]] = []
        for item in items:
            upload = self._uploads.get(str(item.get("id"))) if isinstance(item, dict) else None
            if (
                upload is None
                or upload.team_id != ws.team_id
                or not upload.uploaded
                or upload.completed
            ):
                raise _SlackError("file_not_found")
            uploads.append((upload, item))
        targets: list[str] = []
        if call.params.get("channel_id"):
            targets.append(str(call.params["channel_id"]))
        targets += [c for c in str(call.params.get("channels") or "").split(",") if c]
        channel_ids = [self._postable_channel(ws, c) for c in targets]
        for upload, item in uploads:
            upload.completed = True
            upload.title = str(item.get("title") or upload.filename)
            upload.channels = list(channel_ids)
        objects = [self._file_object(upload, ws) for upload, _ in uploads]
        for channel_id in channel_ids:
            message: dict[str, Any] = {
                "type": "message",
                "subtype": "file_share",
                "user": ws.bot_user_id,
                "bot_id": ws.bot_id,
                "ts": self._next_ts(),
                "text": str(call.params.get("initial_comment") or ""),
                "files": objects,
                "team": ws.team_id,
            }
            if call.params.get("thread_ts"):
                message["thread_ts"] = str(call.params["thread_ts"])
            self.messages.setdefault(channel_id, []).append(message)
        return {"ok": True, "files": objects}

    def _files_info(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        upload = self._uploads.get(str(call.params.get("file") or ""))
        if upload is None or upload.team_id != ws.team_id or not upload.completed:
            raise _SlackError("file_not_found")
        return {"ok": True, "file": self._file_object(upload, ws), "comments": []}

    def _files_upload_v1(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        raise _SlackError("method_deprecated")

    def _apps_uninstall(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        for token, team_id in self._tokens.items():
            if team_id == ws.team_id:
                self._revoked.add(token)
        return {"ok": True}

    def _team_info(self, call: Call, ws: _Workspace) -> dict[str, Any]:
        team: dict[str, Any] = {
            "id": ws.team_id,
            "name": ws.team_name,
            "domain": ws.domain,
            "email_domain": "",
            "icon": {"image_default": True},
        }
        if ws.enterprise_id:
            team["enterprise_id"] = ws.enterprise_id
        return {"ok": True, "team": team}

    def _oauth_v2_access(self, call: Call, authorization: str) -> dict[str, Any]:
        client_id = call.params.get("client_id")
        client_secret = call.params.get("client_secret")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[len("basic ") :]).decode("utf-8")
            except ValueError as exc:
                raise _SlackError("invalid_client_id") from exc
            client_id, _, client_secret = decoded.partition(":")
        call.params.pop("client_secret", None)  # don't keep secrets in the record
        if not client_id or (self.client_id is not None and client_id != self.client_id):
            raise _SlackError("invalid_client_id")
        if not client_secret or (
            self.client_secret is not None and client_secret != self.client_secret
        ):
            raise _SlackError("bad_client_secret")
        code = call.params.get("code")
        grant = self._oauth.pop(str(code), None) if code else None
        if grant is None:
            raise _SlackError("invalid_code")
        self.add_workspace(
            grant.team_id,
            grant.bot_token,
            team_name=grant.team_name,
            bot_user_id=grant.bot_user_id,
            enterprise_id=grant.enterprise_id,
        )
        call.team_id = grant.team_id
        enterprise = (
            {"id": grant.enterprise_id, "name": grant.enterprise_id}
            if grant.enterprise_id
            else None
        )
        return {
            "ok": True,
            "app_id": self.APP_ID,
            "authed_user": {"id": grant.authed_user_id},
            "scope": grant.scope,
            "token_type": "bot",
            "access_token": grant.bot_token,
            "bot_user_id": grant.bot_user_id,
            "team": {"id": grant.team_id, "name": grant.team_name},
            "enterprise": enterprise,
            "is_enterprise_install": False,
        }
