"""Database work under a deadline, and what this process last learnt of the database's health.

A database that refuses connections fails fast by itself (the connect error, the pool's
timeout, ``bot.store.engine``). One that stops answering does not: a query on an open
connection waits on its socket until the server answers, and neither libpq nor SQLite has a
client-side statement timeout (PostgreSQL's ``statement_timeout`` is the server's, and a server
that does not answer does not enforce it). So work that a person waits for (an answer,
``/healthz``) runs in a worker thread, and the caller waits at most a deadline:

* when the deadline passes, a probe (``SELECT 1`` on its own thread, at most one at a time)
  decides: the database answered, so the work is slow, not stuck, and the caller keeps
  waiting; it did not, so the work is abandoned (it finishes, or fails, on its thread when
  the database comes back or the connection dies) and ``StoreUnavailable`` is raised;
* a connection or pool error is checked the same way, so that a real error (a bug, a missing
  table) is not reported as an outage;
* while the last probe failed, new work is not started: each caller probes first (sharing
  the probe in flight) and hears ``StoreUnavailable`` within the probe's timeout. The first
  probe that succeeds ends the outage, so service is back as soon as the database answers.

There is one guard per engine (``guard_for``), so that the answers and ``/healthz`` of a
process share what they know.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.core.errors import StoreUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long an answer's database work may go without a sign of life before the database is
#: probed. Answers that compute charts take longer on a busy machine; they are not cut short
#: while the database answers the probe.
WORK_DEADLINE_SECONDS = 5.0
#: How long a probe may take before the database is counted as not answering.
PROBE_SECONDS = 1.0
#: A probe still running after this is given up and a new one started (its thread ends when
#: its connection does): a server gone for good must not leave every later probe waiting.
ABANDON_PROBE_SECONDS = 30.0
#: Threads that run guarded work. Threads stuck on a hung database stay stuck until it comes
#: back; new work is not started meanwhile (the guard is down), so a few are enough.
WORKERS = 8


def may_be_outage(exc: BaseException) -> bool:
    """Whether ``exc`` may mean the database is unreachable (a probe then decides)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError | PoolTimeout | OSError)


class StoreGuard:
    """Runs database work under a deadline; see the module's docstring."""

    def __init__(self, engine: Engine, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._engine = weakref.ref(engine)  # the engine owns its guard (``guard_for``)
        self._monotonic = monotonic
        self._work = ThreadPoolExecutor(WORKERS, thread_name_prefix="hubpulse-db")
        self._lock = threading.Lock()
        self._probe: Future[None] | None = None
        self._probe_started = 0.0
        self.down = False

    def _ping(self, future: Future[None]) -> None:
        engine = self._engine()
        try:
            if engine is None:
                raise StoreUnavailable()
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means "not answering"; the caller logs it
            future.set_exception(exc)
        else:
            future.set_result(None)

    def _current_probe(self) -> Future[None]:
        with self._lock:
            probe = self._probe
            stale = self._monotonic() - self._probe_started > ABANDON_PROBE_SECONDS
            if probe is None or probe.done() or stale:
                probe = self._probe = Future()
                self._probe_started = self._monotonic()
                threading.Thread(
                    target=self._ping, args=(probe,), name="hubpulse-db-probe", daemon=True
                ).start()
            return probe

    def probe(self, timeout: float = PROBE_SECONDS) -> bool:
        """Whether the database answers ``SELECT 1`` within ``timeout`` seconds."""
        try:
            self._current_probe().result(timeout=timeout)
        except FutureTimeout:
            self._set_down(True, f"it did not answer within {timeout:.1f} s")
            return False
        except Exception as exc:
            self._set_down(True, type(exc).__name__)
            return False
        self._set_down(False, "it answers again")
        return True

    def _set_down(self, down: bool, why: str) -> None:
        if down != self.down:
            if down:
                log.warning("database unavailable: %s", why)
            else:
                log.warning("database available: %s", why)
        self.down = down

    def run(self, work: Callable[[], T], deadline: float = WORK_DEADLINE_SECONDS) -> T:
        """``work()``'s result; ``StoreUnavailable`` if the database does not answer."""
        probe_timeout = min(PROBE_SECONDS, deadline)
        if self.down and not self.probe(probe_timeout):
            raise StoreUnavailable()
        future = self._work.submit(work)
        while True:
            try:
                return future.result(timeout=deadline)
            except FutureTimeout:
                if not self.probe(probe_timeout):
                    future.cancel()
                    raise StoreUnavailable() from None
            except Exception as exc:
                if may_be_outage(exc) and not self.probe(probe_timeout):
                    raise StoreUnavailable() from exc
                raise


_GUARDS: weakref.WeakKeyDictionary[Engine, StoreGuard] = weakref.WeakKeyDictionary()
_GUARDS_LOCK = threading.Lock()


def guard_for(engine: Engine) -> StoreGuard:
    """The one guard of ``engine`` in this process."""
    with _GUARDS_LOCK:
        guard = _GUARDS.get(engine)
        if guard is None:
            guard = _GUARDS[engine] = StoreGuard(engine)
        return guard
