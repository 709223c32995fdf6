"""Recording each signed Slack request once: ``INSERT ... ON CONFLICT DO NOTHING`` on its key.

The database is the one place all replicas share, so a request replayed to another replica is
recognised too. A row is useless once its request's timestamp has left the signature window;
every ``PURGE_EVERY``-th insert of a process also deletes the expired rows (an indexed range
delete), which keeps the table at about one window of traffic without a scheduled job.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from datetime import datetime

from sqlalchemy import Connection, Engine, delete

from bot.store.replay_tables import request_replays
from bot.store.upsert import dialect_insert

PURGE_EVERY = 100


def replay_key(timestamp: str, signature: str) -> str:
    """The key of a signed request: its signature covers its body and its timestamp."""
    return hashlib.sha256(f"{timestamp}:{signature}".encode()).hexdigest()


class ReplayStore:
    """Seen keys in ``request_replays``; safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._inserts = itertools.count(1)
        self._lock = threading.Lock()

    def first_sighting(self, key: str, expires_at: datetime, now: datetime) -> bool:
        """Record ``key``; False when it was already there (a replay)."""
        with self._lock:
            purge = next(self._inserts) % PURGE_EVERY == 0
        with self.engine.begin() as connection:
            statement = (
                dialect_insert(connection, request_replays)
                .values(key=key, expires_at=expires_at)
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(request_replays.c.key)
            )
            fresh = connection.execute(statement).first() is not None
            if purge:
                purge_expired(connection, now)
        return fresh


def purge_expired(connection: Connection, now: datetime) -> int:
    """Delete the keys whose window has passed; how many went."""
    result = connection.execute(delete(request_replays).where(request_replays.c.expires_at < now))
    return result.rowcount
