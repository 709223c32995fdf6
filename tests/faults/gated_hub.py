"""``GatedHub``: the fake Hub, able to hold one request of the top-models listing open, so that
a refresh in another process is mid-crawl for as long as a test likes (then killed, or let go).
"""

from __future__ import annotations

import threading
from typing import Any

from tests.fakes.hub import FakeHub

HOLD_LIMIT = 60.0
"""A held request is let go after this long at the latest (a test that forgot it)."""


class GatedHub(FakeHub):
    """The fake Hub, able to hold one request of the top-models listing open until released
    (or until the test ends): the refresh is then mid-crawl, for as long as the test likes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hold_at: int | None = None
        self.reached = threading.Event()
        self.release = threading.Event()
        self._listings = 0

    def hold(self, page: int | None) -> None:
        """Hold the ``page``-th top-models listing request from now on (None: hold none)."""
        with self._lock:
            self.hold_at, self._listings = page, 0

    def _route(self, request: Any) -> Any:
        if request.path.rstrip("/") == "/api/models" and "author=" not in request.query:
            with self._lock:
                self._listings += 1
                hold = self._listings == self.hold_at
            if hold:
                self.reached.set()
                self.release.wait(HOLD_LIMIT)
        return super()._route(request)

    def stop(self) -> None:
        self.release.set()
        super().stop()
