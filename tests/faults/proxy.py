"""A loopback TCP proxy that the fault tests put between hubpulse and PostgreSQL.

``FaultProxy(("127.0.0.1", 5432))`` listens on ``127.0.0.1:<free port>`` (``proxy.port``) and
forwards every connection to the target. It can misbehave as a database server does:

* ``hang()``: bytes already on their way are held and new connections are accepted but get no
  answer, as from a server that stopped (``SIGSTOP``, a full disk, a network black hole):
  the kernel still acknowledges every packet, so nothing on the client's side times out;
* ``refuse()``: open connections are cut and new ones refused (``ECONNREFUSED``), as from a
  server that is down;
* ``recover()``: back to forwarding; held bytes flow on, so queries that were waiting finish.

Standard library only; threads, daemonic; use as a context manager.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

CHUNK = 65536


class FaultProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._closed = False
        self._listener = self._listen(0)
        self.port: int = self._listener.getsockname()[1]

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return listener

    def url(self, database_url: str) -> str:
        """``database_url`` (on the target's host and port) pointed at the proxy instead."""
        host, port = self.target
        return database_url.replace(f"{host}:{port}", f"127.0.0.1:{self.port}")

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        self._flowing.set()
        self._stop_listening()
        self._cut()

    def hang(self) -> None:
        self._flowing.clear()

    def refuse(self) -> None:
        with self._lock:
            self._stop_listening()
        self._cut()

    def _stop_listening(self) -> None:
        """``close()`` alone would leave the socket listening while ``accept()`` waits on it
        (Linux); ``shutdown()`` wakes that ``accept()`` and stops the listening."""
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        with suppress(OSError):
            self._listener.close()

    def recover(self) -> None:
        with self._lock:
            if self._listener.fileno() == -1:
                self._listener = self._listen(self.port)
        self._flowing.set()

    def _cut(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while not self._closed:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed: refused, or the proxy stopped
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(CHUNK)
                if not data:
                    break
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
