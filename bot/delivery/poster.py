"""Posting scheduled messages to a channel with the right workspace's bot token.

In multi-workspace mode (``SLACK_CLIENT_ID`` set) each workspace's token comes from the
installation store; otherwise ``SLACK_BOT_TOKEN`` serves the single workspace. Clients come from
``bot.slackapi.clients`` (the configured base URL, 429s waited out per ``Retry-After``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.channels.channel import Channel
from bot.core.errors import ConfigError
from bot.core.settings import Settings
from bot.slackapi.clients import make_client
from bot.slackapi.installations import installation_store

log = logging.getLogger(__name__)

CHART_FILENAME = "hubpulse-digest.png"

TokenSource = Callable[[Channel], str | None]
"""The bot token for a channel's workspace, or None when the app is not installed there."""


class NotInstalled(Exception):
    """No bot token for the workspace: the app was uninstalled or never installed."""


class Poster(Protocol):
    def post(self, channel: Channel, message: dict[str, Any]) -> str:
        """Post ``message`` (``text``, ``blocks``, ``metadata``); returns the message ts."""
        ...

    def upload(self, channel: Channel, png: bytes, title: str, thread_ts: str) -> None:
        """Attach a PNG in the message's thread."""
        ...


class SlackPoster:
    """A ``Poster`` over the real Slack Web API (or whatever ``base_url`` points at)."""

    def __init__(self, tokens: TokenSource, client_for: Callable[[str], WebClient]) -> None:
        self._tokens = tokens
        self._client_for = client_for
        self._clients: dict[str, WebClient] = {}

    def _client(self, channel: Channel) -> WebClient:
        token = self._tokens(channel)
        if not token:
            raise NotInstalled(channel.team_id)
        client = self._clients.get(token)
        if client is None:
            client = self._clients[token] = self._client_for(token)
        return client

    def post(self, channel: Channel, message: dict[str, Any]) -> str:
        response = self._client(channel).chat_postMessage(channel=channel.channel_id, **message)
        return str(response["ts"])

    def upload(self, channel: Channel, png: bytes, title: str, thread_ts: str) -> None:
        try:
            self._client(channel).files_upload_v2(
                channel=channel.channel_id,
                content=png,
                filename=CHART_FILENAME,
                title=title,
                thread_ts=thread_ts,
            )
        except (SlackApiError, NotInstalled, OSError) as exc:
            log.warning("could not attach the chart in %s: %s", channel.channel_id, exc)


def installation_tokens(engine: Engine, client_id: str) -> TokenSource:
    """Tokens from slack_sdk's installation store in our database (multi-workspace mode)."""
    store = installation_store(client_id, engine)

    def token(channel: Channel) -> str | None:
        bot = store.find_bot(enterprise_id=channel.enterprise_id or None, team_id=channel.team_id)
        return bot.bot_token if bot else None

    return token


def poster_from_settings(settings: Settings, engine: Engine) -> SlackPoster:
    """The poster the scheduler and the CLI use."""

    def client_for(token: str) -> WebClient:
        return make_client(settings.slack_api_url, token)

    if settings.slack_client_id:
        return SlackPoster(installation_tokens(engine, settings.slack_client_id), client_for)
    if settings.slack_bot_token:
        single = settings.slack_bot_token
        return SlackPoster(lambda channel: single, client_for)
    raise ConfigError(
        "digests and alerts need a Slack token: set SLACK_BOT_TOKEN (one workspace) or "
        "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (installed workspaces)."
    )
