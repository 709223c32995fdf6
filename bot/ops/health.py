"""What ``GET /healthz`` answers: 200 while the cache is fresh enough, 503 otherwise.

A stale cache means refreshes have been failing (the Hub is down, a token was revoked, the
scheduler stopped): answers would still come, but from old data, which operators want to hear
about. An empty cache or an unreachable database is unhealthy too.

The answer comes within ``ANSWER_WITHIN_SECONDS`` whatever the database does: the read runs
under ``bot.store.guard``'s deadline, and a database that does not answer in time (or is known
to be down and still does not answer a probe) is ``database_unavailable``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from bot.core.errors import StoreUnavailable
from bot.store.guard import guard_for

if TYPE_CHECKING:
    from bot.store.reader import Reader

HEALTHY, UNHEALTHY = 200, 503
#: Load balancers and orchestrators give a health check a few seconds.
ANSWER_WITHIN_SECONDS = 2.0
#: The read's deadline: with the probe that follows a missed deadline (as long again at
#: most), the answer stays inside ``ANSWER_WITHIN_SECONDS``.
READ_DEADLINE_SECONDS = 0.8


def health(reader: Reader, max_age: timedelta) -> tuple[int, dict[str, Any]]:
    """The status code and JSON body of ``/healthz``.

    >>> health(cache, timedelta(hours=36))  # doctest: +SKIP
    (200, {'status': 'ok', 'snapshot_id': 7, 'taken_at': '2026-05-04T06:00:00+00:00', ...})
    """
    limit = int(max_age.total_seconds())
    try:
        snapshot = guard_for(reader.engine).run(reader.latest_or_none, READ_DEADLINE_SECONDS)
    except (StoreUnavailable, SQLAlchemyError) as exc:
        return UNHEALTHY, {"status": "database_unavailable", "error": type(exc).__name__}
    if snapshot is None:
        return UNHEALTHY, {"status": "empty", "snapshot_id": None, "max_age_seconds": limit}
    age = reader.age(snapshot)
    body = {
        "status": "ok" if age <= max_age else "stale",
        "snapshot_id": snapshot.id,
        "taken_at": snapshot.taken_at.isoformat(),
        "age_seconds": int(age.total_seconds()),
        "max_age_seconds": limit,
    }
    return (HEALTHY if age <= max_age else UNHEALTHY), body
