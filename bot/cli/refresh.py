"""``hubpulse refresh``: take one snapshot of the Hub into the configured store."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from bot.cli.base import CliError, main, open_store, settings, user_errors
from bot.cli.terminal import configure_cli_logging
from bot.core.errors import RefreshError
from bot.ingest import hub
from bot.ingest.org_source import configured_registry
from bot.ingest.refresh import refresh
from bot.store.reader import Reader


class Bars:
    """One tqdm bar per crawl phase, on stderr, only when stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: tqdm[Any] | None = None

    def phase(self, name: str, total: int | None = None) -> None:
        self.close()
        if self.enabled:
            self._bar = tqdm(total=total, desc=name, unit=" models", file=sys.stderr)

    def advance(self, count: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Bars:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _still_answering(engine: Engine) -> str:
    try:
        previous = Reader(engine).latest_or_none()
    except SQLAlchemyError:
        return "nothing already stored was changed"
    if previous is None:
        return "no earlier snapshot is stored, so `hubpulse ask` has nothing to answer"
    return f"the previous snapshot ({previous.taken_at:%Y-%m-%d %H:%M} UTC) is still answering"


@main.command("refresh")
@click.option(
    "--top",
    "top_n",
    type=click.IntRange(1, 1_000_000),
    metavar="N",
    help="Models in the share denominator (default: HUBPULSE_TOP_N, else 20,000).",
)
@user_errors
def refresh_command(top_n: int | None) -> None:
    """Take a snapshot of the Hub: the top N models by downloads, every model of every
    registered org, and the ancestors of all of them.

    The Hub is HF_ENDPOINT (HF_TOKEN is optional). A refresh that fails stores nothing: the
    previous snapshot keeps answering.
    """
    config = settings()
    held = configure_cli_logging(config)
    engine = open_store(config)
    api = hub.connect(config.hf_endpoint, config.hf_token)
    with Bars(enabled=sys.stderr.isatty()) as bars:
        try:
            registry = configured_registry(config.orgs_file)
            summary = refresh(engine, api, registry, top_n or config.top_n, progress=bars)
        except RefreshError as exc:
            raise CliError(f"refresh failed: {exc}; {_still_answering(engine)}") from None
    if held is not None:
        held.report()
    click.echo(summary.line())
