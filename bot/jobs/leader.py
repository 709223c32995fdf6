"""Which process runs the scheduled jobs: one at a time, however many are started.

APScheduler 3 cannot share a job store between running schedulers (each would run every
job). On PostgreSQL the process holding a session-level advisory lock runs them; it keeps the
lock on a dedicated connection and checks that it still holds it. The others stand by and try
again (the lock is released when its holder stops, or when its connection dies).

A holder that is killed loses the lock at once (the server sees its connection close). One that
stops without its connection closing (frozen by ``SIGSTOP``, a paused VM, a network cut off)
would keep it for good, and no standby would ever take over: so the lock is a lease. Its
session gets an ``idle_session_timeout`` of ``LEASE_SECONDS``; every check by a live holder
resets that clock, and a silent holder's session is ended by the server, which frees the lock.

SQLite has no such lock: run one scheduler process per database (``hubpulse serve`` with
``--no-scheduler`` on every other process).
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot.core.settings import LEADER_CHECK_MAX_SECONDS

log = logging.getLogger(__name__)

LOCK_NAME = "hubpulse-scheduler"
KEY_SQL = (
    "SELECT hashtextextended(current_database() || '.' || current_schema() || '.' || :name, 0)"
)
"""The lock's 64-bit key: one per database and schema, so two deployments sharing a
PostgreSQL server (or tests, each in its own schema) do not block each other."""
LEASE_SECONDS = 4 * LEADER_CHECK_MAX_SECONDS
"""How long the lock outlives a holder that stopped checking it: four of the longest leader
checks (``HUBPULSE_LEADER_CHECK_SECONDS``), so a live holder never comes near it."""
LEASE_SQL = (
    "SELECT set_config(name, :ms, false) FROM pg_settings WHERE name = 'idle_session_timeout'"
)
"""The lease, on this session only; PostgreSQL before 14 has no such setting (and no lease:
there a frozen holder keeps the lock until its connection drops)."""
HELD_SQL = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = pg_backend_pid() AND objsubid = 1 "
    "AND classid = CAST(:high AS oid) AND objid = CAST(:low AS oid)"
)


def key_parts(key: int) -> dict[str, int]:
    """How ``pg_locks`` shows a bigint advisory key: high and low 32 bits."""
    return {"high": (key >> 32) & 0xFFFFFFFF, "low": key & 0xFFFFFFFF}


class LeaderLock(Protocol):
    def acquire(self) -> bool:
        """Try to become the runner; never waits."""
        ...

    def holds(self) -> bool:
        """Whether this process still runs the jobs (False once the lock is lost)."""
        ...

    def release(self) -> None: ...


class AdvisoryLock:
    """``pg_try_advisory_lock`` on a connection kept for as long as the lock is held (and no
    longer than ``lease_seconds`` after the last check)."""

    def __init__(
        self, engine: Engine, name: str = LOCK_NAME, lease_seconds: float = LEASE_SECONDS
    ) -> None:
        self.engine = engine
        self.name = name
        self.lease_seconds = lease_seconds
        self.key: int | None = None
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        if self._connection is not None:
            return self.holds()
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            key = int(connection.execute(text(KEY_SQL), {"name": self.name}).scalar_one())
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(CAST(:key AS bigint))"), {"key": key}
            )
            held = bool(got.scalar())
            if held:
                lease = str(round(self.lease_seconds * 1000))
                connection.execute(text(LEASE_SQL), {"ms": lease})
        except SQLAlchemyError:
            connection.invalidate()  # it may hold the lock, or the lease: never back to the pool
            connection.close()
            log.warning("could not ask PostgreSQL for the scheduler lock", exc_info=True)
            return False
        if not held:
            connection.close()
            return False
        self.key, self._connection = key, connection
        log.info("this process now runs the scheduled jobs")
        return True

    def holds(self) -> bool:
        """Ask the server whether this session still holds the lock (a session that was cut
        has released it)."""
        if self._connection is None or self.key is None:
            return False
        try:
            held = self._connection.execute(text(HELD_SQL), key_parts(self.key)).scalar()
        except SQLAlchemyError:
            log.error("lost the database connection that held the scheduler lock")
            self._connection.invalidate()
            self._drop()
            return False
        if not held:
            self._drop()
        return bool(held)

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(
                text("SELECT pg_advisory_unlock(CAST(:key AS bigint))"), {"key": self.key}
            )
        except SQLAlchemyError:
            log.warning("could not release the scheduler lock; closing its connection")
            self._connection.invalidate()
        self._drop()

    def _drop(self) -> None:
        """Forget the lock's connection; it is discarded, not pooled: its session has the
        lease's ``idle_session_timeout``, which would end it under another user."""
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except SQLAlchemyError:
                log.debug("closing the lock connection failed", exc_info=True)
            self._connection = None


class SingleProcess:
    """SQLite: the process that starts the scheduler runs it (documented: start only one)."""

    def __init__(self) -> None:
        self._held = False

    def acquire(self) -> bool:
        self._held = True
        return True

    def holds(self) -> bool:
        return self._held

    def release(self) -> None:
        self._held = False


def leader_lock(engine: Engine) -> LeaderLock:
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    return SingleProcess()
