"""Tools for probing the HTTP edge of a real ``hubpulse serve`` process from outside.

``send_body`` sends a request the way a client that does not care about the answer would:
the whole body, as fast as the server takes it, stopping only when the server answers or
closes. ``memory_of`` reads a process's resident memory from ``/proc``. ``HeldResponseUrl`` is
a response URL that keeps each answer waiting until the test lets it through, so that an
answer can be caught in flight.
"""

from __future__ import annotations

import select
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MIB = 1 << 20
FORM = "application/x-www-form-urlencoded"

#: Bodies Bolt cannot read, each sent with the content type it claims.
MALFORMED: dict[str, tuple[bytes, str]] = {
    "invalid UTF-8": (b"command=/share&text=\xff\xfe", FORM),
    "broken JSON": (b'{"type": "event_callback", ', "application/json"),
    "JSON nested 50k deep": (b"[" * 50_000 + b"]" * 50_000, "application/json"),
    "JSON array": (b"[1, 2]", "application/json"),
    "payload= a number": (b"payload=5", FORM),
    "payload= a list": (b"payload=%5B1%5D", FORM),
    "payload= broken JSON": (b"payload=%7Bnope", FORM),
    "form labelled JSON": (b"command=%2Fshare&text=qwen&team_id=T1", "application/json"),
}


def send_body(url: str, path: str, size: int, headers: dict[str, str]) -> int | None:
    """POST ``size`` bytes to ``url + path``; the status the server answered, or None when it
    closed without one."""
    host, port = url.removeprefix("http://").split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{head}Content-Length: {size}\r\n\r\n"
    chunk = b"x" * (256 * 1024)
    received = b""
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request.encode())
        left = size
        try:
            while b"\r\n" not in received:
                readable, writable, _ = select.select([sock], [sock] if left else [], [], 30)
                if not readable and not writable:
                    return None
                if readable:
                    data = sock.recv(65536)
                    if not data:
                        break
                    received += data
                elif writable:
                    left -= sock.send(chunk[: min(left, len(chunk))])
        except (BrokenPipeError, ConnectionResetError):
            pass
    status_line = received.split(b"\r\n", 1)[0].split()
    return int(status_line[1]) if len(status_line) > 1 else None


@dataclass(frozen=True)
class Memory:
    resident: int
    peak: int


def memory_of(pid: int) -> Memory:
    """Resident memory now and its peak since the last ``reset_peak``, in bytes."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return Memory(
        resident=int(fields["VmRSS"].split()[0]) * 1024,
        peak=int(fields["VmHWM"].split()[0]) * 1024,
    )


def reset_peak(pid: int) -> None:
    """Start ``VmHWM`` again from the current resident size (Linux's ``clear_refs`` 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class HeldResponseUrl:
    """A response URL on loopback that holds each post until ``release()``; answers ``ok``
    with 200, as Slack's do."""

    def __init__(self) -> None:
        self.posts: list[bytes] = []
        self.arrived = threading.Event()
        self._release = threading.Event()
        held = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                held.arrived.set()
                held._release.wait(timeout=60)
                held.posts.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}/response/held"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def release(self) -> None:
        self._release.set()

    def __enter__(self) -> HeldResponseUrl:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
