"""What a request to ``/slack/events`` must pass before Bolt sees it.

Each step is cheap next to the one after it, and none reads more than the one before allowed:

1. a declared length of at most ``MAX_BODY_BYTES`` (413 above it, 411 without one, 400 when it
   is not a number), checked before a byte of the body is read;
2. Slack's signature on the body as received, with slack_sdk's ``SignatureVerifier`` (400
   when the headers are malformed, such as a timestamp ``abc`` or ``1e10``, or the body is
   not UTF-8; 401 when the signature is missing, wrong or older than the window);
3. a body Bolt can parse: JSON or a form whose ``payload`` is a JSON object, nested no
   deeper than Python's recursion limit (400 otherwise, without a traceback);
4. not seen before (``ReplayCheck``): a replay is acknowledged with an empty 200 and dropped.

Bolt checks the signature again; it never meets an unsigned request, so it never logs one.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.slack.replay_check import ReplayCheck

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
"""Slack's own payloads stay well under this (a slash command is about 1 KiB)."""
SIGNATURE_WINDOW = timedelta(minutes=5)
"""How far a request's timestamp may be from now: slack_sdk's ``SignatureVerifier`` window."""

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
#: What Bolt's parsing raises on bodies it cannot read (``json`` raises RecursionError when a
#: document nests deeper than the interpreter's limit).
_UNPARSABLE = (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError)


class Refused(Exception):
    """A request answered with ``status`` and a one-line ``reason``, never handed to Bolt."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Replayed:
    """A signed request seen before inside its window: acknowledge it and do nothing."""


def declared_length(environ: dict[str, Any]) -> int:
    """The body's length from ``Content-Length``, refused when absent, malformed or too big."""
    raw = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not raw:
        raise Refused(HTTPStatus.LENGTH_REQUIRED, "no Content-Length")
    if not (raw.isascii() and raw.isdigit()):
        raise Refused(HTTPStatus.BAD_REQUEST, "Content-Length is not a number")
    length = int(raw)
    if length > MAX_BODY_BYTES:
        raise Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body of {length} bytes")
    return length


def read_body(environ: dict[str, Any], length: int) -> bytes:
    body = environ["wsgi.input"].read(length) if length else b""
    if len(body) != length:
        raise Refused(HTTPStatus.BAD_REQUEST, "body shorter than its Content-Length")
    return bytes(body)


def headers_of(environ: dict[str, Any]) -> dict[str, str]:
    """Request headers by lower-case name, read by Bolt's WSGI adapter."""
    return {name: str(value) for name, value in WsgiHttpRequest(environ).get_headers().items()}


class SlackGate:
    """Turns a WSGI request for ``/slack/events`` into a ``BoltRequest``, or refuses it."""

    def __init__(self, signing_secret: str, replays: ReplayCheck | None = None) -> None:
        self.verifier = SignatureVerifier(signing_secret)
        self.replays = replays

    def admit(self, environ: dict[str, Any]) -> BoltRequest | Replayed:
        length = declared_length(environ)
        headers = headers_of(environ)
        timestamp, signature = self._signing_headers(headers)
        body = read_body(environ, length)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            # Slack's bodies are UTF-8, and slack_sdk's verifier decodes before it hashes.
            raise Refused(HTTPStatus.BAD_REQUEST, "body is not UTF-8") from None
        if not self.verifier.is_valid(text, timestamp, signature):
            raise Refused(HTTPStatus.UNAUTHORIZED, "invalid or stale signature")
        request = self._parse(text, environ, headers)
        if self.replays is not None and self.replays.seen_before(
            timestamp, signature, self._expiry(timestamp)
        ):
            return Replayed()
        return request

    @staticmethod
    def _signing_headers(headers: dict[str, str]) -> tuple[str, str]:
        timestamp = headers.get("x-slack-request-timestamp")
        signature = headers.get("x-slack-signature")
        if timestamp is None or signature is None:
            raise Refused(HTTPStatus.UNAUTHORIZED, "unsigned")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise Refused(HTTPStatus.BAD_REQUEST, "malformed X-Slack-Request-Timestamp")
        if not _SIGNATURE.fullmatch(signature):
            raise Refused(HTTPStatus.BAD_REQUEST, "malformed X-Slack-Signature")
        return timestamp, signature

    @staticmethod
    def _parse(text: str, environ: dict[str, Any], headers: dict[str, str]) -> BoltRequest:
        """Bolt's own parsing, run here so that what it cannot read is a 400, not its 500."""
        try:
            request = BoltRequest(
                body=text, query=environ.get("QUERY_STRING", ""), headers=dict(headers)
            )
        except _UNPARSABLE as exc:
            raise Refused(
                HTTPStatus.BAD_REQUEST, f"unreadable body ({type(exc).__name__})"
            ) from None
        if not isinstance(request.body, dict):
            raise Refused(HTTPStatus.BAD_REQUEST, "body is not a JSON object or a form")
        return request

    @staticmethod
    def _expiry(timestamp: str) -> datetime:
        return datetime.fromtimestamp(int(timestamp), UTC) + SIGNATURE_WINDOW
