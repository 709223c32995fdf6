"""Schema upgrades that are safe to run from every process at start.

With compose, two HTTP replicas and the scheduler start together against one PostgreSQL: each
runs ``upgrade_safely`` and a PostgreSQL advisory lock lets one migrate while the others wait
(then find nothing to do). A database already migrated by a newer hubpulse is refused rather
than touched, since this code does not know its schema.
"""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select

from bot.core.errors import ConfigError
from bot.store.engine import alembic_config, current_revision, head_revision, upgrade

MIGRATION_LOCK = int.from_bytes(b"hp:migr", "big")
"""Advisory lock key for migrations; other hubpulse locks (the scheduler's) use other keys."""


def known_revisions(engine: Engine) -> set[str]:
    script = ScriptDirectory.from_config(alembic_config(engine))
    return {revision.revision for revision in script.walk_revisions()}


def check_not_newer(engine: Engine) -> str | None:
    """The database's revision; ConfigError when this hubpulse does not know it."""
    current = current_revision(engine)
    if current is not None and current not in known_revisions(engine):
        raise ConfigError(
            f"the database schema is at revision {current}, which this hubpulse does not know "
            f"(its newest is {head_revision(engine)}): it was upgraded by a newer hubpulse. "
            "Run that version or a later one."
        )
    return current


def _upgrade(engine: Engine) -> tuple[str | None, str | None]:
    before = check_not_newer(engine)
    upgrade(engine)
    return before, current_revision(engine)


def upgrade_safely(engine: Engine) -> tuple[str | None, str | None]:
    """Upgrade to head, one process at a time; returns (revision before, revision after)."""
    if engine.dialect.name != "postgresql":
        return _upgrade(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
        lock.execute(select(func.pg_advisory_lock(MIGRATION_LOCK)))
        try:
            return _upgrade(engine)
        finally:
            lock.execute(select(func.pg_advisory_unlock(MIGRATION_LOCK)))
