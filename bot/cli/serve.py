"""``hubpulse serve``: the Slack app, over Socket Mode or HTTP, with the scheduler alongside."""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import click
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackClientError
from sqlalchemy import Engine

from bot.cli.base import CliError, main, open_store, settings, user_errors
from bot.cli.signals import StopSignals
from bot.core.logs import configure_logging
from bot.core.settings import Settings, require_slack
from bot.jobs.scheduler import SchedulerRunner, start_scheduler
from bot.ops import metrics
from bot.slack.app import build_app
from bot.slack.http import HTTP_THREADS, http_server, make_wsgi_app
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


#: How long a stop waits for the requests and answers in flight (Kubernetes allows 30 s).
SHUTDOWN_GRACE_SECONDS = 25.0


def wait_for_answers(app: HubpulseApp, timeout: float) -> bool:
    """Let the answers Bolt has started finish (at most ``timeout`` s); whether they did."""
    executor = app.listener_runner.listener_executor
    if not isinstance(executor, ThreadPoolExecutor):
        return True
    waiter = threading.Thread(target=executor.shutdown, name="answers-drain", daemon=True)
    waiter.start()
    waiter.join(timeout)
    return not waiter.is_alive()


def serve_http(
    app: HubpulseApp, config: Settings, host: str, port: int, mode: str, threads: int
) -> bool:
    """Serve until a stop signal, then finish what is in flight; whether all of it finished."""
    reader = app.services.reader
    metrics.bind(reader)
    application = make_wsgi_app(
        app,
        reader,
        timedelta(hours=config.health_max_age_hours),
        routes={"/metrics": metrics.wsgi_app},
        signing_secret=config.slack_signing_secret or "",
    )
    try:
        server = http_server(application, host, port, threads)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    stop = StopSignals()
    loop = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    loop.start()
    log.info(
        "hubpulse serving Slack (%s) on http://%s:%s/slack/events with %d threads",
        mode,
        host,
        server.server_port,
        threads,
    )
    stop.wait(loop)
    deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
    server.stop_accepting()
    log.info(
        "hubpulse stopping: no new connections; finishing the requests and answers in flight "
        "(at most %.0f s)",
        SHUTDOWN_GRACE_SECONDS,
    )
    finished = server.drain(SHUTDOWN_GRACE_SECONDS) and wait_for_answers(
        app, max(deadline - time.monotonic(), 0.0)
    )
    server.shutdown()
    loop.join(timeout=5)
    return finished


def serve_socket_mode(app: HubpulseApp, app_token: str) -> bool:
    handler = socket_mode_handler(app, app_token)
    stop = StopSignals()
    handler.connect()
    log.info("hubpulse serving Slack over Socket Mode")
    try:
        stop.wait()
        log.info("hubpulse stopping: finishing the answers in flight")
    finally:
        handler.close()
    return wait_for_answers(app, SHUTDOWN_GRACE_SECONDS)


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), help="HTTP port [default: HUBPULSE_PORT]")
@click.option(
    "--host",
    default="0.0.0.0",  # noqa: S104 - a server (in a container) listens beyond loopback
    show_default=True,
    help="HTTP address to bind.",
)
@click.option("--no-scheduler", is_flag=True, help="Answer commands only; run no scheduled jobs.")
@click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=HTTP_THREADS,
    show_default=True,
    help="HTTP mode: threads answering requests.",
)
@user_errors
def serve(port: int | None, host: str, no_scheduler: bool, threads: int) -> None:
    """Run the Slack app: Socket Mode if SLACK_APP_TOKEN is set, else HTTP.

    HTTP mode serves POST /slack/events, GET /healthz and GET /metrics, plus /slack/install
    and /slack/oauth_redirect when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set. Unless
    --no-scheduler, the scheduled jobs run here too (see `hubpulse scheduler`).

    On SIGTERM or Ctrl-C it stops accepting, finishes the requests and answers in flight
    (at most 25 s), stops the scheduler and exits 0 (1 if something was still running).
    """
    config = settings()
    configure_logging(config.log_format, config.log_level, secrets=config.secrets)
    mode = require_slack(config)
    engine = open_store(config)
    app = connect(config, engine)
    runner: SchedulerRunner | None = None if no_scheduler else start_scheduler(config, engine)
    try:
        if mode == "socket":
            finished = serve_socket_mode(app, str(config.slack_app_token))
        else:
            finished = serve_http(
                app, config, host, config.port if port is None else port, mode, threads
            )
    finally:
        if runner is not None:
            runner.stop()
    if not finished:
        log.warning("hubpulse stopped with work still running after %.0f s", SHUTDOWN_GRACE_SECONDS)
        # The answer threads still running would hold the interpreter's exit for good.
        logging.shutdown()
        os._exit(1)
    log.info("hubpulse stopped")
