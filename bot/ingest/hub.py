"""The only module that talks to the Hugging Face Hub: fetching, never transforming.

It reads ``HF_ENDPOINT`` with huggingface_hub's own machinery (an ``HfApi`` for the endpoint,
token and headers; its shared HTTP session; ``paginate``; ``hf_raise_for_status`` for the
errors), asks only for the fields hubpulse stores (``expand``) and yields raw Hub records
(camelCase JSON), which ``bot.model.records.to_record`` turns into rows. ``HfApi.list_models`` would
wrap every record in a ``ModelInfo`` whose date parsing (``strptime``) took a third of the
client's time at 200,000 models; the requests are the ones it makes.

Failures, and who handles them:

* Listings go through ``paginate``, whose ``http_backoff`` retries 408, 429, 500, 502, 503,
  504, timeouts and network errors 5 times, waiting 1, 2, 4, 8, 8 s, or on a 429 the
  ``RateLimit`` reset (else ``Retry-After``) plus one second. We rely on it.
* A fetch by id is a single request in huggingface_hub (``model_info`` does not retry), so
  :func:`model_by_id` retries it by the same rule (:class:`Backoff`). Not with ``http_backoff``
  itself: it sleeps through its own module's ``time.sleep`` and warns on every retry, while
  ``Backoff``'s waits can be recorded (tests, the scheduler tests' world) and its retries log
  at INFO (the refresh CLI shows one line for a Hub that fails for good).
* huggingface_hub's shared session has no timeout, and ``paginate`` passes none, so
  :func:`connect` installs a session whose requests time out (:data:`REQUEST_TIMEOUT`): a
  stalled connection becomes a retried timeout instead of a refresh that hangs forever.

:func:`connect` also turns huggingface_hub's telemetry off. With it on, building the first
request's headers waits for ``GET {ENDPOINT}/api/agent-harnesses`` (AI agent detection for the
user agent), ENDPOINT being ``HF_ENDPOINT`` as it was when huggingface_hub was imported, not the
client's endpoint: huggingface.co when the setting came from ``.env``. hubpulse needs none of it.

Whatever still fails is raised as :class:`HubError` (a ``RefreshError``) with a one-line reason
that names the endpoint and never the token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import islice
from typing import Any, TypeVar

import httpx2
from huggingface_hub import HfApi, get_session, set_client_factory
from huggingface_hub import constants as hf_constants
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.hf_api import ExpandModelProperty_T
from huggingface_hub.utils import (
    build_hf_headers,
    hf_raise_for_status,
    paginate,
    parse_ratelimit_headers,
)

from bot.core.errors import RefreshError

log = logging.getLogger(__name__)

LIST_FIELDS: tuple[ExpandModelProperty_T, ...] = (
    "author",
    "createdAt",
    "downloads",
    "downloadsAllTime",
    "likes",
    "trendingScore",
    "pipeline_tag",
    "library_name",
    "gated",
    "tags",
)
"""What a listing asks for. The licence comes from the ``license:`` tag, because ``cardData``
is heavy; ``baseModels`` and ``childrenModelCount`` are refused in listings by the Hub (only
``/api/models/{id}`` accepts them), so lineage comes from the ``base_model:`` tags."""

INFO_FIELDS: tuple[ExpandModelProperty_T, ...] = (*LIST_FIELDS, "childrenModelCount", "baseModels")
"""What a fetch by id asks for."""

REQUEST_TIMEOUT = httpx2.Timeout(60.0, connect=10.0)
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRY_EXCEPTIONS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError)
GONE_STATUSES = frozenset({401, 403, 404, 410, 451})

T = TypeVar("T")
RawModel = dict[str, Any]
"""One model as the Hub API returns it (camelCase JSON)."""


class HubError(RefreshError):
    """The Hub could not be read; the message is one line, safe to show."""


class HubUnreachable(HubError):
    """Nothing answers at the endpoint (connection refused, unknown host)."""


@dataclass(frozen=True)
class Backoff:
    """Bounded retries with exponential waits, the rule ``http_backoff`` applies to listings.

    ``sleep`` is injectable so that tests can record the waits instead of sleeping.
    """

    retries: int = 5
    base: float = 1.0
    cap: float = 8.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def call(self, what: str, request: Callable[[], T]) -> T:
        wait = self.base
        for attempt in range(self.retries + 1):
            try:
                return request()
            except HfHubHTTPError as exc:
                status = exc.response.status_code
                if status not in RETRY_STATUSES or attempt == self.retries:
                    raise
                delay = _rate_limit_wait(exc.response) if status == 429 else None
            except RETRY_EXCEPTIONS:
                if attempt == self.retries:
                    raise
                delay = None
            delay = wait if delay is None else delay
            # A retry is routine: the refresh CLI shows warnings only, so that a Hub that fails
            # for good is one line there; the scheduler's log (INFO) keeps every retry.
            log.info("%s failed; retry %d/%d in %.1f s", what, attempt + 1, self.retries, delay)
            self.sleep(delay)
            wait = min(self.cap, wait * 2)
        raise AssertionError("unreachable")


def _rate_limit_wait(response: httpx2.Response) -> float | None:
    """Seconds a 429 asks us to wait: the ``RateLimit`` reset when the quota is spent, else
    ``Retry-After``; plus one second against rounding, as huggingface_hub does."""
    info = parse_ratelimit_headers(response.headers)
    if info is not None and info.remaining == 0:
        return float(info.reset_in_seconds) + 1
    value = response.headers.get("Retry-After", "").strip()
    return float(value) + 1 if value.isdigit() else None


def _bound_timeout(request: httpx2.Request) -> None:
    """Give a request that has no timeout at all the default one."""
    timeout = request.extensions.get("timeout")
    if not timeout or all(value is None for value in timeout.values()):
        request.extensions["timeout"] = REQUEST_TIMEOUT.as_dict()


def _factory_with_timeout(default: httpx2.Client) -> Callable[[], httpx2.Client]:
    """A client factory like huggingface_hub's own (its hooks: offline mode, request ids,
    debug logs; its redirects), taken from a session it built, plus a default timeout.

    huggingface_hub has no public name for its default factory, so its settings are read
    from the public session rather than imported from its private module.
    """
    hooks = default.event_hooks
    request_hooks = [*hooks["request"], _bound_timeout]
    response_hooks = list(hooks["response"])
    follow = default.follow_redirects

    def factory() -> httpx2.Client:
        return httpx2.Client(
            event_hooks={"request": request_hooks, "response": response_hooks},
            follow_redirects=follow,
            timeout=None,  # requests without a timeout get REQUEST_TIMEOUT (_bound_timeout)
        )

    return factory


def connect(endpoint: str, token: str | None) -> HfApi:
    """A client for ``endpoint``; ``token`` may be None (anonymous, never the cached login)."""
    _install_session()
    # What HF_HUB_DISABLE_TELEMETRY=1 sets at import; read by every request's headers.
    hf_constants.HF_HUB_DISABLE_TELEMETRY = True
    return HfApi(endpoint=endpoint.rstrip("/"), token=token or False)


@cache
def _install_session() -> None:
    """Once per process: replacing the factory closes the session in use."""
    set_client_factory(_factory_with_timeout(get_session()))


def check_reachable(api: HfApi) -> None:
    """Fail fast, without retries, when nothing listens at the endpoint.

    ``http_backoff`` would retry a refused connection for 23 s; a wrong ``HF_ENDPOINT`` deserves
    an immediate answer. Any other problem is left to the crawl and its retries.
    """
    try:
        get_session().get(
            f"{api.endpoint}/api/models",
            params={"limit": 1, "expand": "author"},
            headers=_headers(api),
        ).close()
    except httpx2.ConnectError as exc:
        raise HubUnreachable(
            f"cannot reach the Hub at {api.endpoint} ({_first_line(exc) or 'connection failed'}); "
            "check HF_ENDPOINT and the network"
        ) from None
    except httpx2.HTTPError:
        pass


def top_models(api: HfApi, n: int) -> Iterator[RawModel]:
    """The ``n`` most downloaded models (30-day downloads), most downloaded first."""
    return _listing(api, "the top-models listing", {"sort": "downloads", "limit": n}, limit=n)


def org_models(api: HfApi, org: str) -> Iterator[RawModel]:
    """Every model of ``org``, whatever its downloads."""
    return _listing(api, f"the models of {org}", {"author": org})


def model_by_id(api: HfApi, model_id: str, backoff: Backoff | None = None) -> RawModel | None:
    """One model, with its children count and base models; None when it is gone or private
    (the Hub answers 401 for both, and 404 for a deleted repo)."""
    policy = backoff or Backoff()

    def fetch() -> RawModel:
        response = get_session().get(
            f"{api.endpoint}/api/models/{model_id}",
            params={"expand": list(INFO_FIELDS)},
            headers=_headers(api),
        )
        hf_raise_for_status(response)
        record: RawModel = response.json()
        return record

    try:
        return policy.call(f"fetching {model_id}", fetch)
    except RepositoryNotFoundError:
        return None
    except HfHubHTTPError as exc:
        if exc.response.status_code in GONE_STATUSES:
            return None
        raise HubError(describe(exc, api, f"fetching {model_id}")) from exc
    except (httpx2.HTTPError, ValueError) as exc:
        raise HubError(describe(exc, api, f"fetching {model_id}")) from exc


def _headers(api: HfApi) -> dict[str, str]:
    """What ``HfApi`` sends: its token (or none), library and user agent."""
    return build_hf_headers(
        token=api.token,
        library_name=api.library_name,
        library_version=api.library_version,
        user_agent=api.user_agent,
        headers=api.headers,
    )


def _listing(
    api: HfApi, what: str, params: dict[str, Any], limit: int | None = None
) -> Iterator[RawModel]:
    """The pages of ``GET /api/models``, as ``HfApi.list_models`` requests them."""
    headers = build_hf_headers(
        token=api.token,
        library_name=api.library_name,
        library_version=api.library_version,
        user_agent=api.user_agent,
        headers=api.headers,
    )
    items: Iterable[RawModel] = paginate(
        f"{api.endpoint}/api/models",
        params={**params, "expand": list(LIST_FIELDS)},
        headers=headers,
    )
    if limit is not None:
        items = islice(items, limit)
    try:
        yield from items
    except (httpx2.HTTPError, ValueError) as exc:  # ValueError: a page that is not JSON
        raise HubError(describe(exc, api, f"reading {what}")) from exc


def describe(exc: BaseException, api: HfApi, doing: str) -> str:
    """One line for a failed Hub request, without the token (it travels in a header, but a
    server could echo it: it is masked wherever it appears)."""
    endpoint = api.endpoint
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code
        message = (exc.server_message or "").strip().splitlines()
        detail = f": {message[0][:160]}" if message else ""
        retried = " (after retries)" if status in RETRY_STATUSES else ""
        hint = "; is HF_ENDPOINT a Hugging Face Hub?" if status == 404 else ""
        line = f"the Hub at {endpoint} answered HTTP {status}{retried} while {doing}{detail}{hint}"
    elif isinstance(exc, ValueError):
        line = (
            f"the Hub at {endpoint} answered with something other than JSON while {doing}; "
            "is HF_ENDPOINT a Hugging Face Hub?"
        )
    elif isinstance(exc, httpx2.TimeoutException):
        line = f"the Hub at {endpoint} timed out (after retries) while {doing}"
    elif isinstance(exc, httpx2.ConnectError):
        line = f"cannot reach the Hub at {endpoint} while {doing}; check HF_ENDPOINT"
    else:
        reason = _first_line(exc) or type(exc).__name__
        line = f"lost the connection to the Hub at {endpoint} while {doing} ({reason})"
    token = api.token
    return line.replace(token, "***") if isinstance(token, str) and token else line


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:160] if lines else ""
