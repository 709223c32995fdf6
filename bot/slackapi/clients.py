"""Slack Web API clients: the configured base URL, 429s retried, other errors logged.

Clients for scheduled posts (``make_client``) wait out a couple of 429s and leave the rest to
the delivery ledger, which retries later. Answers to commands have no ledger: the person is
waiting, and the ``response_url`` lives ``RESPONSE_URL_LIFETIME``. So their clients
(``make_client(..., retry_handlers=patient_handlers())`` and ``Responder``) retry 429s (after
``Retry-After``), 5xx and connection errors with back-off, for at most a few minutes in all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.webhook import WebhookClient, WebhookResponse

log = logging.getLogger(__name__)

RATE_LIMIT_RETRIES = 2
TIMEOUT_SECONDS = 10
#: How long Slack accepts posts to a command's ``response_url`` (docs: "up to 5 times within
#: 30 minutes"); an answer is never sent later than this.
RESPONSE_URL_LIFETIME = timedelta(minutes=30)
#: Answers' retries. With the back-off of ``ServerErrorRetryHandler`` (0.5 s doubling, with
#: jitter) 7 retries wait about 64 s; 10 rate limits wait 10 ``Retry-After`` (Slack says 1 to
#: 60 s): at most a few minutes, well inside ``RESPONSE_URL_LIFETIME``.
ANSWER_SERVER_ERROR_RETRIES = 7
ANSWER_RATE_LIMIT_RETRIES = 10
ANSWER_CONNECTION_RETRIES = 3
#: The 5xx statuses that mean "Slack is having trouble, try again".
SERVER_ERRORS = frozenset({500, 502, 503, 504})


def api_method(url: str) -> str:
    """``https://slack.com/api/chat.postMessage?x=y`` -> ``chat.postMessage`` (never the query)."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def error_code(exc: SlackApiError) -> str:
    """Slack's error code (``not_in_channel``) for a failed call."""
    response: Any = exc.response
    try:
        return str(response.get("error") or f"http_{response.status_code}")
    except (AttributeError, TypeError):
        return "unknown_error"


class ApiErrorLog(RetryHandler):
    """Never retries; logs every failed Web API call with its method and Slack's error code.

    slack_sdk shows each response to the retry handlers, and Bolt copies the app client's
    handlers into the client it makes for each request, so this sees every call.
    """

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None:
            return False
        body = response.body if isinstance(response.body, dict) else {}
        if response.status_code == 200 and body.get("ok", True):
            return False
        code = body.get("error") or ("ratelimited" if response.status_code == 429 else "")
        log.warning(
            "Slack %s failed: %s (HTTP %s)",
            api_method(request.url),
            code or "http_error",
            response.status_code,
        )
        return False


class _ServerErrors(ServerErrorRetryHandler):
    """``ServerErrorRetryHandler`` for every status in ``SERVER_ERRORS`` (it knows 500, 503)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in SERVER_ERRORS


class _Counted(RetryHandler):
    """``handler``, calling ``on_retry`` before each retry it makes (for ``/metrics``)."""

    def __init__(self, handler: RetryHandler, on_retry: Callable[[], None]) -> None:
        super().__init__(handler.max_retry_count, handler.interval_calculator)
        self._handler = handler
        self._on_retry = on_retry

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return self._handler.can_retry(state=state, request=request, response=response, error=error)

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        self._on_retry()
        self._handler.prepare_for_next_attempt(
            state=state, request=request, response=response, error=error
        )


def patient_handlers(on_retry: Callable[[], None] = lambda: None) -> list[RetryHandler]:
    """Retries for answers: 429s, 5xx and connection errors; failures logged."""
    retrying: Sequence[RetryHandler] = (
        ConnectionErrorRetryHandler(max_retry_count=ANSWER_CONNECTION_RETRIES),
        RateLimitErrorRetryHandler(max_retry_count=ANSWER_RATE_LIMIT_RETRIES),
        _ServerErrors(max_retry_count=ANSWER_SERVER_ERROR_RETRIES),
    )
    return [ApiErrorLog(), *(_Counted(handler, on_retry) for handler in retrying)]


def make_client(
    base_url: str,
    token: str | None = None,
    *,
    retry_handlers: list[RetryHandler] | None = None,
) -> WebClient:
    """A WebClient on ``base_url`` that waits out 429s (``Retry-After``) and logs failures;
    ``retry_handlers`` (``patient_handlers()``) replace those retries."""
    return WebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        timeout=TIMEOUT_SECONDS,
        retry_handlers=retry_handlers
        or [
            ApiErrorLog(),
            ConnectionErrorRetryHandler(),
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )


class Responder:
    """Posts to a command's ``response_url`` like Bolt's ``respond``, but with a timeout and
    the given retry handlers (Bolt's ``Respond`` builds a ``WebhookClient`` with neither)."""

    def __init__(self, response_url: str, retry_handlers: list[RetryHandler]) -> None:
        self._client = WebhookClient(
            url=response_url, timeout=TIMEOUT_SECONDS, retry_handlers=retry_handlers
        )

    def __call__(
        self,
        text: str = "",
        blocks: Sequence[dict[str, Any]] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
    ) -> WebhookResponse:
        return self._client.send(
            text=text,
            blocks=list(blocks) if blocks else None,
            response_type=response_type,
            replace_original=replace_original,
            delete_original=delete_original,
        )
