"""Database engines and schema migrations.

One code path serves the embedded SQLite default and PostgreSQL. The schema is only ever
created by Alembic, so an upgrade is the same operation as a first install.

Every wait on the database is bounded: SQLite waits at most ``BUSY_TIMEOUT_SECONDS`` for a
lock; PostgreSQL gets ``CONNECT_TIMEOUT_SECONDS`` to accept a connection, runs no statement
longer than ``STATEMENT_TIMEOUT_SECONDS`` (a lock held by a stuck process, a runaway query),
and a thread waits at most ``POOL_TIMEOUT_SECONDS`` for a pooled connection. A server that
stops answering altogether is not caught by these (it never reports the statement timeout):
``bot.store.guard`` puts a deadline on the work someone is waiting for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from bot.core.errors import ConfigError
from bot.core.settings import redact_url

#: What HUBPULSE_DATABASE_URL may name, as said in every message about it.
SUPPORTED_URLS = "sqlite:///path or postgresql+psycopg://user@host/db"
SUPPORTED_BACKENDS = frozenset({"sqlite", "postgresql"})
BUSY_TIMEOUT_SECONDS = 10
CONNECT_TIMEOUT_SECONDS = 5
#: Long enough for the largest statement a refresh or a migration runs on a big Hub.
STATEMENT_TIMEOUT_SECONDS = 300
POOL_TIMEOUT_SECONDS = 5


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.close()


def _postgres_timeouts(options: str | tuple[str, ...] | None) -> dict[str, Any]:
    """libpq connection parameters; ``options`` from the URL (a ``search_path``) are kept."""
    given = " ".join(options) if isinstance(options, tuple) else (options or "")
    timeout = f"-c statement_timeout={STATEMENT_TIMEOUT_SECONDS * 1000}"
    return {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "options": f"{given} {timeout}".strip(),
    }


def make_engine(url: str) -> Engine:
    """Open (and check) the database at ``url``; a bad URL raises ConfigError, never a trace."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"HUBPULSE_DATABASE_URL is not a database URL (expected {SUPPORTED_URLS})."
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise ConfigError(
            f"hubpulse does not support {backend} databases: HUBPULSE_DATABASE_URL must be "
            f"{SUPPORTED_URLS}."
        )
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(
                    f"cannot create the directory for {redact_url(url)}: {exc.strerror}"
                ) from None
        engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        try:
            engine = create_engine(
                parsed,
                pool_pre_ping=True,
                pool_size=5,
                max_overflow=5,
                pool_timeout=POOL_TIMEOUT_SECONDS,
                connect_args=_postgres_timeouts(parsed.query.get("options")),
            )
        except ImportError as exc:
            raise ConfigError(
                f"cannot use database {redact_url(url)}: its driver is not installed "
                f"({exc.name or exc}); use {SUPPORTED_URLS}."
            ) from None
        except ArgumentError as exc:
            raise ConfigError(f"cannot use database {redact_url(url)}: {exc}") from None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (OperationalError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        raise ConfigError(
            f"cannot open database {redact_url(url)}: {reason}. "
            "Check HUBPULSE_DATABASE_URL and that the server is running."
        ) from None
    return engine


def database_problem(url: str) -> str | None:
    """Why the database at ``url`` cannot be opened, or None when it can (for
    ``load_settings(database_check=...)``)."""
    try:
        make_engine(url).dispose()
    except ConfigError as exc:
        return f"HUBPULSE_DATABASE_URL: {exc.message}"
    return None


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; data already stored is kept by every migration."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
