"""The Bolt app: built from the settings, with every command registered in one place."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine

from bot.core.clock import Clock, SystemClock
from bot.core.settings import Settings
from bot.ingest.org_source import configured_registry
from bot.ops.metrics import observe_answer_retry
from bot.slack.commands import register_commands
from bot.slack.events import register_events
from bot.slack.home import register_home
from bot.slack.oauth import cached_authorize, oauth_settings
from bot.slack.services import HubpulseApp, Services
from bot.slack.share import register_share_action
from bot.slack.users import UserTimezones
from bot.slackapi.clients import make_client, patient_handlers
from bot.store.reader import Reader
from commands import all_commands
from commands.base import Command

NOT_INSTALLED = (
    "hubpulse is not installed in this workspace any more: ask an admin to install it again."
)
BOLT_LOGGER = "hubpulse.slack"
#: Threads that run commands after their acknowledgement. Answers are mostly CPU (charts), so
#: more threads would not answer sooner on a small machine, only slow the acknowledgements.
ANSWER_WORKERS = 4


def _auth_options(config: Settings, engine: Engine) -> dict[str, Any]:
    """OAuth (many workspaces) when a client id and secret are set, else the one bot token.

    The app's client carries the answers' patient retries; Bolt copies its handlers into the
    client it makes for each request."""
    handlers = patient_handlers(observe_answer_retry)
    if config.slack_client_id and config.slack_client_secret:
        client = make_client(config.slack_api_url, retry_handlers=handlers)
        settings = oauth_settings(config.slack_client_id, config.slack_client_secret, engine)
        return {
            "client": client,
            "oauth_settings": settings,
            "authorize": cached_authorize(settings),
            "user_facing_authorize_error_message": NOT_INSTALLED,
        }
    client = make_client(config.slack_api_url, config.slack_bot_token, retry_handlers=handlers)
    return {"client": client}


def build_app(
    config: Settings,
    engine: Engine,
    *,
    clock: Clock | None = None,
    commands: Sequence[Command] | None = None,
) -> HubpulseApp:
    services = Services(
        engine=engine,
        reader=Reader(
            engine, configured_registry(config.orgs_file), clock=clock, follow_imports=True
        ),
        default_timezone=config.timezone,
        timezones=UserTimezones(clock),
        clock=clock or SystemClock(),
    )
    app = HubpulseApp(
        services=services,
        # A logger of our own: without one, Bolt pins its loggers' levels to the root level
        # at the moment the app is built, so a later logging setup would not reach them.
        name=BOLT_LOGGER,
        logger=logging.getLogger(BOLT_LOGGER),
        signing_secret=config.slack_signing_secret or "",
        # Acknowledge from the listener's own thread, then run the lazy answer: commands run
        # once, after the acknowledgement, in the same way over HTTP and Socket Mode.
        process_before_response=True,
        listener_executor=ThreadPoolExecutor(ANSWER_WORKERS, thread_name_prefix="hubpulse"),
        **_auth_options(config, engine),
    )
    register_commands(app, all_commands() if commands is None else commands)
    register_share_action(app)
    register_home(app)
    register_events(app)
    return app
