"""HTTP mode: hubpulse's routes under waitress, a production WSGI server in this process.

Routes: ``POST /slack/events`` (every Slack request, through ``bot.slack.gate`` before Bolt),
``GET /slack/install`` and ``GET /slack/oauth_redirect`` when OAuth is on, ``GET /healthz``,
and any extra route given to ``make_wsgi_app`` (``/metrics``). Any other path is a 404, a known
path asked with another method a 405.

waitress runs in this process, with threads: the scheduler and Bolt's answer threads live
beside it, as before. It reads each request on its own event loop and hands the application
only complete requests: a declared body above ``MAX_BODY_BYTES`` is refused with 413 before
it is read, and a connection silent for ``READ_TIMEOUT_SECONDS`` is closed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from http import HTTPStatus
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server

from bot.ops.health import health
from bot.slack.gate import MAX_BODY_BYTES, Refused, Replayed, SlackGate
from bot.slack.replay_check import ReplayCheck
from bot.slack.services import HubpulseApp
from bot.store.reader import Reader

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READ_ONLY = ("GET", "HEAD")
#: Threads answering HTTP requests. An acknowledgement is short and mostly waits (on the
#: database's replay check, or Slack for OAuth), so there are more of them than cores.
HTTP_THREADS = 16
READ_TIMEOUT_SECONDS = 10
#: How often waitress looks for connections past ``READ_TIMEOUT_SECONDS``.
_CLEANUP_SECONDS = 2
_DRAIN_POLL_SECONDS = 0.05


def _json(
    start_response: StartResponse, status: int, body: dict[str, Any], *headers: tuple[str, str]
) -> list[bytes]:
    data = json.dumps(body).encode("utf-8")
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data))), *headers],
    )
    return [data]


def _bolt_reply(start_response: StartResponse, status: int, headers: Any, body: str) -> list[bytes]:
    response = WsgiHttpResponse(status=status, headers=headers, body=body)
    start_response(response.status, response.get_headers())
    return list(response.get_body())


def make_wsgi_app(
    app: HubpulseApp,
    reader: Reader,
    max_age: timedelta,
    routes: Mapping[str, WsgiApp] | None = None,
    *,
    signing_secret: str,
) -> WsgiApp:
    """One WSGI application: Slack's events through the gate, OAuth, health, ``routes``."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    gate = SlackGate(signing_secret, ReplayCheck(app.services.engine))
    read_only: dict[str, WsgiApp] = {
        HEALTH_PATH: lambda _environ, start: _json(start, *health(reader, max_age)),
        **(routes or {}),
    }
    if app.oauth_flow is not None:
        for path in (app.oauth_flow.install_path, app.oauth_flow.redirect_uri_path):
            read_only[path] = slack

    def events(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            admitted = gate.admit(environ)
        except Refused as refused:
            status = int(refused.status)
            log.info("refused a Slack request: %s", refused.reason, extra={"status": status})
            return _json(start_response, status, {"error": refused.reason})
        if isinstance(admitted, Replayed):
            log.info("ignored a Slack request already seen", extra={"status": 200})
            return _bolt_reply(start_response, 200, {}, "")
        response = app.dispatch(admitted)
        return _bolt_reply(start_response, response.status, response.headers, response.body)

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == EVENTS_PATH:
            if method != "POST":
                return _json(start_response, 405, {"error": "use POST"}, ("Allow", "POST"))
            return events(environ, start_response)
        if path in read_only:
            if method not in READ_ONLY:
                allow = ", ".join(READ_ONLY)
                return _json(start_response, 405, {"error": f"use {allow}"}, ("Allow", allow))
            return read_only[path](environ, start_response)
        return _json(start_response, 404, {"error": "not found"})

    return application


class HttpServer:
    """waitress, bound and listening on construction; ``serve_forever()`` serves.

    Stopping gracefully: ``stop_accepting()``, then ``drain()`` until the requests already
    received are answered, then ``shutdown()``. ``shutdown()`` alone stops at once.
    """

    def __init__(self, application: WsgiApp, host: str, port: int, threads: int) -> None:
        self._map: dict[int, Any] = {}
        self._server = create_server(
            application,
            map=self._map,
            host=host,
            port=port,
            threads=threads,
            # waitress refuses a declared length equal to its limit or above.
            max_request_body_size=MAX_BODY_BYTES + 1,
            channel_timeout=READ_TIMEOUT_SECONDS,
            cleanup_interval=_CLEANUP_SECONDS,
            expose_tracebacks=False,
            ident="hubpulse",
        )
        self.server_port: int = self._server.effective_port
        self._serving = threading.Event()

    def serve_forever(self, poll_interval: float | None = None) -> None:
        """Serve until ``shutdown()``; ``poll_interval`` is accepted for socketserver's callers
        and unused (waitress wakes its loop itself)."""
        self._serving.set()
        self._server.run()

    def _in_loop(self, action: Callable[[], None]) -> None:
        """Run ``action`` on the server's event loop (its sockets are not thread-safe), and
        return once it has run."""
        if not (self._serving.is_set() and self._map):
            action()
            return
        done = threading.Event()

        def run() -> None:
            try:
                action()
            finally:
                done.set()

        try:
            self._server.trigger.pull_trigger(run)
        except OSError:
            # The loop's wake-up pipe is closed under it (EBADF): nothing would run ``run`` in
            # the loop, so run it here rather than fail the shutdown with a traceback.
            log.warning("HTTP server loop cannot be woken; stopping it from this thread")
            action()
            return
        done.wait(timeout=READ_TIMEOUT_SECONDS)

    def stop_accepting(self) -> None:
        """Close the listening socket: from then on new connections are refused, open ones
        carry on."""
        self._in_loop(lambda: wasyncore.dispatcher.close(self._server))

    def in_flight(self) -> int:
        """Requests being received, waiting for a thread, running, or not yet sent back."""
        dispatcher = self._server.task_dispatcher
        busy = sum(
            1
            for channel in list(self._map.values())
            if isinstance(channel, HTTPChannel)
            and (channel.request is not None or channel.requests or channel.total_outbufs_len)
        )
        return busy + len(dispatcher.queue)

    def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for ``in_flight()`` to reach 0; whether it did."""
        deadline = time.monotonic() + timeout
        while self.in_flight():
            if time.monotonic() >= deadline:
                return False
            time.sleep(_DRAIN_POLL_SECONDS)
        return True

    def shutdown(self) -> None:
        """Close every connection and the listener; ``serve_forever()`` returns."""
        self._in_loop(lambda: wasyncore.close_all(self._map))
        self._server.task_dispatcher.shutdown(timeout=READ_TIMEOUT_SECONDS)

    def server_close(self) -> None:
        """Nothing left after ``shutdown()``; kept for socketserver's callers."""


def http_server(
    application: WsgiApp, host: str, port: int, threads: int = HTTP_THREADS
) -> HttpServer:
    """Bound and listening; ``serve_forever()`` serves. Port 0 picks a free port."""
    return HttpServer(application, host, port, threads)
