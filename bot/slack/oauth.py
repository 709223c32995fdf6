"""Multi-workspace installs: Bolt's OAuth flow with installations and states in our database.

The tables are created by Alembic (``bot/store/slack_tables.py``, migration 0002), never by the
stores' ``create_tables()``. Each request's bot token is looked up by its team; the result of
checking a token (``auth.test``) is remembered per token, so a slash command costs one indexed
query, not a Web API call, before its acknowledgement.
"""

from __future__ import annotations

import logging

from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
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


def cached_authorize(settings: OAuthSettings, client: WebClient) -> InstallationStoreAuthorize:
    """Find each request's installation; remember each token's ``auth.test``."""
    return InstallationStoreAuthorize(
        installation_store=settings.installation_store,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        cache_enabled=True,
        client=client,
        logger=log,
    )
