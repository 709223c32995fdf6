"""Bounded waits on the database: the engine's timeouts and ``bot.store.guard``'s deadline,
against the real PostgreSQL behind ``FaultProxy`` (hung, refusing, back)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from bot.core.errors import ConfigError, StoreUnavailable
from bot.store.engine import STATEMENT_TIMEOUT_SECONDS, make_engine
from bot.store.guard import StoreGuard
from tests.faults.proxy import FaultProxy


def test_an_unsupported_database_is_one_clear_line():
    with pytest.raises(ConfigError) as raised:
        make_engine("mysql://user@localhost/hubpulse")
    assert "does not support mysql" in raised.value.message
    assert "sqlite:///path or postgresql+psycopg://" in raised.value.message
    assert "MySQLdb" not in raised.value.message


def test_postgres_connections_carry_a_statement_timeout_and_keep_url_options(postgres_url: str):
    engine = make_engine(postgres_url)
    with engine.connect() as connection:
        timeout = connection.execute(text("SHOW statement_timeout")).scalar()
        search_path = connection.execute(text("SHOW search_path")).scalar()
    engine.dispose()
    assert timeout == f"{STATEMENT_TIMEOUT_SECONDS // 60}min"
    assert str(search_path).startswith("t_")  # the schema the URL's options chose


@pytest.fixture
def proxied(postgres_url: str) -> Iterator[tuple[Engine, FaultProxy]]:
    with FaultProxy(("127.0.0.1", 5432)) as proxy:
        engine = make_engine(proxy.url(postgres_url))
        yield engine, proxy
        proxy.recover()
        engine.dispose()


def one(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT 1")).scalar_one())


@pytest.mark.parametrize("fault", ["hang", "refuse"])
def test_work_on_a_database_that_does_not_answer_is_given_up(
    proxied: tuple[Engine, FaultProxy], fault: str
):
    engine, proxy = proxied
    guard = StoreGuard(engine)
    assert guard.run(lambda: one(engine)) == 1
    getattr(proxy, fault)()
    with pytest.raises(StoreUnavailable):
        guard.run(lambda: one(engine), deadline=0.5)
    assert guard.down
    with pytest.raises(StoreUnavailable):  # known down: a probe first, no new work
        guard.run(lambda: one(engine), deadline=0.5)
    proxy.recover()
    assert guard.probe(timeout=10)
    assert guard.run(lambda: one(engine)) == 1
    assert not guard.down


def test_a_real_error_is_not_taken_for_an_outage(proxied: tuple[Engine, FaultProxy]):
    engine, _ = proxied
    guard = StoreGuard(engine)

    def broken() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(ProgrammingError):
        guard.run(broken)
    assert not guard.down
