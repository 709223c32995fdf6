"""HTTP mode: Bolt's WSGI adapter behind a threaded standard-library server.

Routes: ``POST /slack/events`` (every Slack request, signature checked by Bolt's
``RequestVerification`` with the signing secret and its 5-minute window), ``GET /slack/install``
and ``GET /slack/oauth_redirect`` when OAuth is on, ``GET /healthz``, and any extra route given
to ``make_wsgi_app`` (``/metrics``). Each request gets its own thread, and the listen backlog is
deep enough for bursts of concurrent slash commands.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.ops.health import health
from bot.store.reader import Reader

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

HEALTH_PATH = "/healthz"


class ThreadingWsgiServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128


class QuietRequestHandler(WSGIRequestHandler):
    """Access lines go to the debug log instead of stderr; idle clients are dropped."""

    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def _json(start_response: StartResponse, status: int, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode("utf-8")
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def make_wsgi_app(
    app: App, reader: Reader, max_age: timedelta, routes: Mapping[str, WsgiApp] | None = None
) -> WsgiApp:
    """One WSGI application: health, the extra ``routes``, then everything Slack."""
    slack = SlackRequestHandler(app)
    extra = dict(routes or {})

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            return _json(start_response, *health(reader, max_age))
        if path in extra:
            return extra[path](environ, start_response)
        return slack(environ, start_response)

    return application


def http_server(application: WsgiApp, host: str, port: int) -> ThreadingWsgiServer:
    """Bound and listening; ``serve_forever()`` serves. Port 0 picks a free port."""
    return make_server(
        host,
        port,
        application,
        server_class=ThreadingWsgiServer,
        handler_class=QuietRequestHandler,
    )
