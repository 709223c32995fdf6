"""``hubpulse serve``: the Slack app, over Socket Mode or HTTP, with the scheduler alongside."""

from __future__ import annotations

import logging
import signal
from datetime import timedelta
from types import FrameType

import click
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackClientError
from sqlalchemy import Engine

from bot.cli.base import CliError, main, open_store, settings, user_errors
from bot.core.logs import configure_logging
from bot.core.settings import Settings, require_slack
from bot.jobs.scheduler import SchedulerRunner, start_scheduler
from bot.ops import metrics
from bot.slack.app import build_app
from bot.slack.http import http_server, make_wsgi_app
from bot.slack.services import HubpulseApp
from bot.slack.socket_mode import socket_mode_handler

log = logging.getLogger(__name__)


def connect(config: Settings, engine: Engine) -> HubpulseApp:
    """The Bolt app; a token Slack refuses is one line, not a traceback."""
    try:
        return build_app(config, engine)
    except (BoltError, SlackClientError, OSError) as exc:
        reason = type(exc).__name__ if isinstance(exc, OSError) else "auth.test failed"
        raise CliError(
            f"cannot reach Slack with SLACK_BOT_TOKEN ({reason}): check the token and "
            "SLACK_API_URL."
        ) from None


def serve_http(app: HubpulseApp, config: Settings, host: str, port: int, mode: str) -> None:
    reader = app.services.reader
    metrics.bind(reader)
    application = make_wsgi_app(
        app,
        reader,
        timedelta(hours=config.health_max_age_hours),
        routes={"/metrics": metrics.wsgi_app},
    )
    try:
        server = http_server(application, host, port)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    log.info(
        "hubpulse serving Slack (%s) on http://%s:%s/slack/events", mode, host, server.server_port
    )
    try:
        server.serve_forever()
    finally:
        server.server_close()


def serve_socket_mode(app: HubpulseApp, app_token: str) -> None:
    handler = socket_mode_handler(app, app_token)
    log.info("hubpulse serving Slack over Socket Mode")
    try:
        handler.start()
    finally:
        handler.close()


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), help="HTTP port [default: HUBPULSE_PORT]")
@click.option(
    "--host",
    default="0.0.0.0",  # noqa: S104 - a server (in a container) listens beyond loopback
    show_default=True,
    help="HTTP address to bind.",
)
@click.option("--no-scheduler", is_flag=True, help="Answer commands only; run no scheduled jobs.")
@user_errors
def serve(port: int | None, host: str, no_scheduler: bool) -> None:
    """Run the Slack app: Socket Mode if SLACK_APP_TOKEN is set, else HTTP.

    HTTP mode serves POST /slack/events, GET /healthz and GET /metrics, plus /slack/install
    and /slack/oauth_redirect when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set. Unless
    --no-scheduler, the scheduled jobs run here too (see `hubpulse scheduler`).
    """
    config = settings()
    configure_logging(config.log_format, config.log_level, secrets=config.secrets)
    mode = require_slack(config)
    engine = open_store(config)
    app = connect(config, engine)
    runner: SchedulerRunner | None = None if no_scheduler else start_scheduler(config, engine)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if mode == "socket":
            serve_socket_mode(app, str(config.slack_app_token))
        else:
            serve_http(app, config, host, config.port if port is None else port, mode)
    except KeyboardInterrupt:
        log.info("hubpulse stopping")
    finally:
        if runner is not None:
            runner.stop()
