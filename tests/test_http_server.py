"""``HttpServer`` (waitress) stops even when its loop can no longer be woken.

Its shutdown runs on the server's event loop through waitress's wake-up pipe. Twice in a dozen
full runs of the suite that pipe was found closed under a running server (EBADF), and the
shutdown raised instead of stopping: the server must still close its sockets and its loop end.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterable
from typing import Any

from bot.slack.http import http_server


def _hello(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def test_shutdown_with_a_dead_wake_up_pipe_still_stops_the_server() -> None:
    server = http_server(_hello, "127.0.0.1", 0, threads=1)
    loop = threading.Thread(target=server.serve_forever, daemon=True)
    loop.start()
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=5) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
        assert answer.endswith(b"\r\n\r\nhello")

    trigger = server._server.trigger  # the wake-up pipe: closed under the running loop
    os.close(trigger.trigger)
    server.shutdown()

    loop.join(timeout=10)
    assert not loop.is_alive()
    try:
        refused = socket.create_connection(("127.0.0.1", server.server_port), timeout=5)
    except ConnectionRefusedError:
        refused = None
    assert refused is None
