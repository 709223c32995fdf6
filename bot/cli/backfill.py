"""``hubpulse backfill``: import the weeks of the whole-Hub archive not imported yet."""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

import click
from tqdm import tqdm

from bot.cli.base import CliError, main, open_store, settings, user_errors
from bot.cli.terminal import configure_cli_logging
from bot.ingest.archive import ArchiveError, Week, archive_from
from bot.ingest.backfill import backfill
from bot.ingest.org_source import effective_registry


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2025-01-20") from None


class Progress:
    """A bar over the weeks to import, on stderr when it is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: tqdm[Any] | None = None

    def plan(self, todo: list[Week], _done: list[Week]) -> None:
        if self.enabled and todo:
            self._bar = tqdm(total=len(todo), desc="archive weeks", unit=" weeks", file=sys.stderr)

    def advance(self, _week: Week, _outcome: str) -> None:
        if self._bar is not None:
            self._bar.update()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._bar is not None:
            self._bar.close()


def _weeks(count: int) -> str:
    return f"{count:,} week" if count == 1 else f"{count:,} weeks"


@main.command("backfill")
@click.option("--since", callback=_day, metavar="DATE", help="First week to import (YYYY-MM-DD).")
@click.option("--until", callback=_day, metavar="DATE", help="Last week to import (YYYY-MM-DD).")
@click.option(
    "--source",
    metavar="REPO_OR_DIR",
    help="The archive: a dataset repo on HF_ENDPOINT or a local directory "
    "(default: HUBPULSE_ARCHIVE_REPO).",
)
@user_errors
def backfill_command(since: date | None, until: date | None, source: str | None) -> None:
    """Import the weekly whole-Hub archive: every week not imported yet, oldest first.

    Each week is read column by column (a small part of its file) and stored as totals, in its
    own transaction. Weeks already imported are skipped, so running it again resumes; a week
    that fails is reported and the others are kept. Exits 2 naming the weeks that failed.
    """
    if since and until and since > until:
        raise CliError("--since comes after --until: nothing to import")
    config = settings()
    held = configure_cli_logging(config)
    engine = open_store(config)
    try:
        archive = archive_from(source or config.archive_repo, config.hf_endpoint, config.hf_token)
        with Progress(enabled=sys.stderr.isatty()) as progress:
            report = backfill(
                engine,
                archive,
                effective_registry(engine, config.orgs_file),
                since=since,
                until=until,
                on_plan=progress.plan,
                on_week=progress.advance,
            )
    except ArchiveError as exc:
        raise CliError(f"backfill failed: {exc}") from None
    if not report.imported and not report.failed:
        click.echo(
            f"nothing to import from {archive.label}: "
            f"{_weeks(len(report.skipped))} already imported"
        )
        return
    if held is not None:
        held.report()
    share = (
        f", {report.bytes_read / report.file_bytes:.1%} of their bytes read"
        if (report.file_bytes)
        else ""
    )
    click.echo(
        f"imported {_weeks(len(report.imported))} from {archive.label}{share}; "
        f"{_weeks(len(report.skipped))} already imported"
    )
    if report.failed:
        lines = "; ".join(f"{day}: {reason}" for day, reason in sorted(report.failed.items()))
        raise CliError(f"{_weeks(len(report.failed))} failed ({lines}); run again to retry")
