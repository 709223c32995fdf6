"""Slack Web API clients: the configured base URL, 429s retried, other errors logged."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse

log = logging.getLogger(__name__)

RATE_LIMIT_RETRIES = 2
TIMEOUT_SECONDS = 10


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


def make_client(base_url: str, token: str | None = None) -> WebClient:
    """A WebClient on ``base_url`` that waits out 429s (``Retry-After``) and logs failures."""
    return WebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        timeout=TIMEOUT_SECONDS,
        retry_handlers=[
            ApiErrorLog(),
            ConnectionErrorRetryHandler(),
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )
