"""Socket Mode's side of Slack, on loopback, in front of tests/fakes/slack.py's FakeSlack.

``apps.connections.open`` (app-level token) hands out a ``ws://`` URL on this server; the
WebSocket there speaks RFC 6455 (handshake, masked client frames, ping/pong) the way Slack's
Socket Mode does: ``hello`` first, then envelopes the test sends with :meth:`send_envelope`,
and the app's acknowledgements come back in :attr:`acks`. Every other Web API call is
forwarded to the FakeSlack unchanged, so it records them as usual::

    with FakeSlack() as fake, FakeSocketMode(fake, app_token="xapp-1") as front:
        app = build_app(settings_with(SLACK_API_URL=front.api_url), engine)
        handler = SocketModeHandler(app, "xapp-1"); handler.connect()
        front.send_envelope("slash_commands", payload)
        front.wait_for_ack(envelope_id)
"""

from __future__ import annotations

import base64
import hashlib
import json
import queue
import socket
import struct
import threading
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.slack import FakeSlack

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def _frame(opcode: int, payload: bytes) -> bytes:
    """A server frame: final, unmasked."""
    head = bytes([0x80 | opcode])
    size = len(payload)
    if size < 126:
        head += bytes([size])
    elif size < 1 << 16:
        head += bytes([126]) + struct.pack("!H", size)
    else:
        head += bytes([127]) + struct.pack("!Q", size)
    return head + payload


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _read_frame(sock: socket.socket) -> tuple[int, bytes]:
    first, second = _read_exactly(sock, 2)
    size = second & 0x7F
    if size == 126:
        size = struct.unpack("!H", _read_exactly(sock, 2))[0]
    elif size == 127:
        size = struct.unpack("!Q", _read_exactly(sock, 8))[0]
    mask = _read_exactly(sock, 4) if second & 0x80 else b"\0\0\0\0"
    data = _read_exactly(sock, size)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, front: FakeSocketMode) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.front = front


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        """Web API: apps.connections.open here, everything else at the FakeSlack."""
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        front = self.server.front
        if self.path.startswith("/api/apps.connections.open"):
            auth = self.headers.get("Authorization") or ""
            ok = auth == f"Bearer {front.app_token}"
            reply: dict[str, Any] = (
                {"ok": True, "url": f"{front.ws_url}?ticket={uuid.uuid4()}"}
                if ok
                else {"ok": False, "error": "invalid_auth"}
            )
            self._send(200, json.dumps(reply).encode(), "application/json")
            return
        forwarded = urllib.request.Request(
            front.fake.url + self.path,
            data=body,
            headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
        )
        try:
            with urllib.request.urlopen(forwarded, timeout=30) as response:
                status, data = response.status, response.read()
                ctype = response.headers.get("Content-Type", "application/json")
        except urllib.error.HTTPError as exc:
            status, data = exc.code, exc.read()
            ctype = exc.headers.get("Content-Type", "text/plain")
        self._send(status, data, ctype)

    def do_GET(self) -> None:
        """The WebSocket: handshake, then this thread serves the connection until it closes."""
        key = self.headers.get("Sec-WebSocket-Key") or ""
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()  # noqa: S324
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.server.front._serve_socket(self.connection)
        self.close_connection = True

    def _send(self, status: int, data: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeSocketMode:
    def __init__(self, fake: FakeSlack, app_token: str) -> None:
        self.fake = fake
        self.app_token = app_token
        self._server = _Server(self)
        port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{port}"
        self.api_url = f"{self.url}/api/"
        self.ws_url = f"ws://127.0.0.1:{port}/link/"
        self.acks: queue.Queue[dict[str, Any]] = queue.Queue()
        self._connected = threading.Event()
        self._socket: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _send(self, opcode: int, payload: bytes) -> None:
        assert self._socket is not None
        with self._send_lock:
            self._socket.sendall(_frame(opcode, payload))

    def _serve_socket(self, sock: socket.socket) -> None:
        self._socket = sock
        self._send(TEXT, json.dumps({"type": "hello", "num_connections": 1}).encode())
        self._connected.set()
        try:
            while True:
                opcode, data = _read_frame(sock)
                if opcode == PING:
                    self._send(PONG, data)
                elif opcode == TEXT:
                    self.acks.put(json.loads(data))
                elif opcode == CLOSE:
                    return
        except (ConnectionError, OSError):
            return

    def wait_connected(self, timeout: float = 20) -> None:
        if not self._connected.wait(timeout):
            raise AssertionError("the app never opened the Socket Mode connection")

    def send_envelope(self, kind: str, payload: dict[str, Any]) -> str:
        """Deliver a request over the socket as Slack does; returns its envelope id."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        self._send(TEXT, json.dumps(envelope).encode())
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 20) -> dict[str, Any]:
        while True:
            ack = self.acks.get(timeout=timeout)
            if ack.get("envelope_id") == envelope_id:
                return ack
