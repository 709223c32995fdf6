"""Stop signals for the commands that run until stopped (``serve``, ``scheduler``)."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
from types import FrameType


class StopSignals:
    """SIGTERM and SIGINT, any number of them at any moment, ask the main thread to stop.

    The handler takes no lock: it sets a flag and writes a byte to a pipe the waiting thread
    selects on. A handler that sets a ``threading.Event`` deadlocks when the signal lands
    while the main thread holds that event's lock, or inside another handler's ``set()``:
    two signals at once hung ``hubpulse serve`` that way.
    """

    def __init__(self) -> None:
        self.requested = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested = True
        with contextlib.suppress(BlockingIOError):  # the pipe is full of wake-ups already
            os.write(self._wake_write, b"\0")

    def wait(self, running: threading.Thread | None = None, poll_seconds: float = 1.0) -> None:
        """Until a signal, or until ``running`` (the server's loop) ends by itself."""
        while not self.requested:
            if running is not None and not running.is_alive():
                return
            select.select([self._wake_read], [], [], poll_seconds)
