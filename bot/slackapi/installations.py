"""Where each workspace's bot token lives: slack_sdk's installation and OAuth state stores,
on the project's own tables (``bot.store.slack_tables``, created by migration 0002)."""

from __future__ import annotations

import logging

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

from bot.store.slack_tables import BOTS_TABLE, INSTALLATIONS_TABLE, STATES_TABLE

log = logging.getLogger(__name__)

STATE_EXPIRATION_SECONDS = 600


def installation_store(client_id: str, engine: Engine) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(
        client_id=client_id,
        engine=engine,
        bots_table_name=BOTS_TABLE,
        installations_table_name=INSTALLATIONS_TABLE,
        logger=log,
    )


def state_store(engine: Engine) -> SQLAlchemyOAuthStateStore:
    return SQLAlchemyOAuthStateStore(
        expiration_seconds=STATE_EXPIRATION_SECONDS,
        engine=engine,
        table_name=STATES_TABLE,
        logger=log,
    )
