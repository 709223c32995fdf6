"""Has this signed request been seen before? Asked of the database, briefly.

The answer must not hold up the acknowledgement (Slack allows 3 seconds), so the question runs
on a small pool of its own and is abandoned after ``REPLAY_CHECK_SECONDS``. When the database
does not answer in time, or fails, the request is processed and a warning logged: failing
open, because losing a user's command is worse than answering a replay twice, and a replay
still needs the signing secret's signature from the last five minutes.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.core.clock import Clock, SystemClock
from bot.store.replays import ReplayStore, replay_key

log = logging.getLogger(__name__)

REPLAY_CHECK_SECONDS = 1.0
#: Checks waiting on a slow database at once; the rest are abandoned while queued.
REPLAY_CHECK_WORKERS = 2


class ReplayCheck:
    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.store = ReplayStore(engine)
        self.clock = clock or SystemClock()
        self._pool = ThreadPoolExecutor(REPLAY_CHECK_WORKERS, thread_name_prefix="replays")

    def seen_before(self, timestamp: str, signature: str, expires_at: datetime) -> bool:
        """True for a replay; False for a first sighting or when the database cannot say."""
        key = replay_key(timestamp, signature)
        now = self.clock.now().astimezone(UTC)
        future = self._pool.submit(self.store.first_sighting, key, expires_at, now)
        try:
            return not future.result(timeout=REPLAY_CHECK_SECONDS)
        except FutureTimeout:
            future.cancel()
            log.warning(
                "replay check skipped: the database did not answer within %.1f s",
                REPLAY_CHECK_SECONDS,
            )
        except SQLAlchemyError as exc:
            log.warning("replay check skipped: %s", type(exc).__name__)
        return False

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
