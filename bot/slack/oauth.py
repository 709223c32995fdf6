"""Multi-workspace installs: Bolt's OAuth flow with installations and states in our database.

The tables are created by Alembic (``bot/store/slack_tables.py``, migration 0002), never by the
stores' ``create_tables()``.

Bolt runs ``authorize`` as a middleware, before any listener and so before the acknowledgement
(``MultiTeamsAuthorization.process`` calls it, then ``next()``). A database that refuses or
hangs there would cost the acknowledgement (Slack allows 3 s). So ``CachedInstallations``
answers from memory: each workspace's installation, once found, is kept and refreshed in the
background after ``REFRESH_SECONDS``; a workspace not in memory is looked up under a deadline
of ``LOOKUP_SECONDS``. When the database does not answer in time, a known workspace keeps its
remembered token, and an unknown one is acknowledged all the same with an ``AuthorizeResult``
marked ``STORE_UNAVAILABLE``: the command's listener then tells the person that the data store
is unavailable (through ``response_url``, which needs no token).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy import Engine

from bot.slackapi.installations import STATE_EXPIRATION_SECONDS, installation_store, state_store

log = logging.getLogger(__name__)

#: The bot scopes hubpulse asks for; manifest.yml lists the same (a test checks).
BOT_SCOPES = ("commands", "chat:write", "files:write", "users:read")


def oauth_settings(client_id: str, client_secret: str, engine: Engine) -> OAuthSettings:
    """``/slack/install`` and ``/slack/oauth_redirect``, stored in the project's database."""
    return OAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        installation_store=installation_store(client_id, engine),
        state_store=state_store(engine),
        state_expiration_seconds=STATE_EXPIRATION_SECONDS,
        logger=log,
    )


#: The most an acknowledgement waits for an installation not yet in memory.
LOOKUP_SECONDS = 1.5
#: A remembered installation older than this is looked up again, in the background.
REFRESH_SECONDS = 60.0
#: Set in the ``AuthorizeResult`` of a request whose installation could not be read.
STORE_UNAVAILABLE = "hubpulse_store_unavailable"

Team = tuple[str, str]  # (enterprise id, team id)


def store_unavailable(context: BoltContext) -> bool:
    """Whether this request was acknowledged without its installation (see the module)."""
    result = context.authorize_result
    return bool(result is not None and result.get(STORE_UNAVAILABLE))


@dataclass
class _Known:
    result: AuthorizeResult
    fetched: float


class CachedInstallations(Authorize):
    """Each workspace's ``AuthorizeResult`` from memory; see the module's docstring.

    The lookup (on worker threads, one at a time per workspace) reads the installation store,
    then calls ``auth.test`` once per token, as Bolt's ``InstallationStoreAuthorize`` does; but
    a database error is raised, where that class logs it and answers "not installed".
    """

    def __init__(
        self, store: InstallationStore, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._checked: dict[str, AuthorizeResult] = {}  # token -> its auth.test
        self._monotonic = monotonic
        self._known: dict[Team, _Known] = {}
        self._running: dict[Team, Future[AuthorizeResult | None]] = {}
        self._lock = threading.Lock()
        self._workers = ThreadPoolExecutor(4, thread_name_prefix="hubpulse-authorize")

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **actor: Any,
    ) -> AuthorizeResult | None:
        team = (enterprise_id or "", team_id or "")
        known = self._known.get(team)
        if known is not None:
            if self._monotonic() - known.fetched > REFRESH_SECONDS:
                self._start(team, context)
            return known.result
        future = self._start(team, context)
        try:
            return future.result(timeout=LOOKUP_SECONDS)
        except FutureTimeout:
            log.warning("installation of %s not read in %.1f s", team_id, LOOKUP_SECONDS)
        except Exception as exc:
            log.warning("installation of %s not readable: %s", team_id, type(exc).__name__)
        unavailable = AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id)
        unavailable[STORE_UNAVAILABLE] = True
        return unavailable

    def _start(self, team: Team, context: BoltContext) -> Future[AuthorizeResult | None]:
        with self._lock:
            running = self._running.get(team)
            if running is None:
                running = self._running[team] = self._workers.submit(
                    self._read, team, context.to_copyable()
                )
            return running

    def _lookup(self, team: Team, context: BoltContext) -> AuthorizeResult | None:
        installation = self._store.find_installation(
            enterprise_id=team[0] or None,
            team_id=team[1] or None,
            is_enterprise_install=context.is_enterprise_install,
        )
        token = installation.bot_token if installation else None
        if installation is None or not token:
            return None
        checked = self._checked.get(token)
        if checked is None:
            try:
                response = context.client.auth_test(token=token)
            except SlackApiError:
                return None  # revoked or invalid: as if not installed
            checked = self._checked[token] = AuthorizeResult.from_auth_test_response(
                auth_test_response=response,
                bot_token=token,
                bot_scopes=installation.bot_scopes,
            )
        return checked

    def _read(self, team: Team, context: BoltContext) -> AuthorizeResult | None:
        try:
            result = self._lookup(team, context)
            if result is None:
                self._known.pop(team, None)
            else:
                self._known[team] = _Known(result, self._monotonic())
            return result
        finally:
            with self._lock:
                self._running.pop(team, None)


def cached_authorize(settings: OAuthSettings) -> CachedInstallations:
    """Find each request's installation in memory first; remember each token's ``auth.test``."""
    return CachedInstallations(settings.installation_store)
