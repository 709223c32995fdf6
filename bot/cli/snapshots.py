"""``hubpulse snapshots list`` and ``hubpulse snapshots prune``: the stored history."""

from __future__ import annotations

import click

from bot.cli.base import CliError, main, open_store, settings, user_errors
from bot.store.history import ImportedWeek, SourceCheck, imported_weeks, source_checks
from bot.store.reader import Reader, Snapshot
from bot.store.retention import prune, sqlite_size
from bot.store.snapshots import COMPLETE

MIB = 1024 * 1024


@main.group("snapshots")
def snapshots_group() -> None:
    """The stored snapshots of the Hub: list them, or prune old ones."""


def _row(snapshot: Snapshot) -> tuple[str, ...]:
    coverage = f"{snapshot.top_models:,}/{snapshot.top_n:,} top"
    return (
        str(snapshot.id),
        f"{snapshot.taken_at:%Y-%m-%d %H:%M}",
        snapshot.status,
        snapshot.source,
        f"{snapshot.models_total:,}",
        coverage,
    )


@snapshots_group.command("list")
@click.option(
    "--limit",
    type=click.IntRange(0),
    default=30,
    show_default=True,
    help="Newest snapshots shown; 0 shows all.",
)
@user_errors
def list_command(limit: int) -> None:
    """List snapshots, newest first: id, time taken (UTC), status, source, models stored and
    coverage (top-N models found of the N asked for); then the archived whole-Hub weeks, and
    any archive that stopped answering."""
    engine = open_store(settings())
    snapshots = Reader(engine).snapshots(status=None, limit=limit or None)
    if not snapshots:
        click.echo("No snapshots stored yet: run `hubpulse refresh` (or `hubpulse demo`).")
    else:
        rows: list[tuple[str, ...]] = [
            ("ID", "TAKEN (UTC)", "STATUS", "SOURCE", "MODELS", "COVERAGE")
        ]
        rows += [_row(snapshot) for snapshot in snapshots]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            click.echo(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
    for line in history_lines(imported_weeks(engine), source_checks(engine)):
        click.echo(line)


def history_lines(weeks: list[ImportedWeek], checks: list[SourceCheck]) -> list[str]:
    """What the whole-Hub history holds, and any archive that stopped answering."""
    complete = [week for week in weeks if week.status == COMPLETE]
    failed = [week for week in weeks if week.status != COMPLETE]
    if complete:
        sources = ", ".join(sorted({week.source for week in complete}))
        line = (
            f"Whole-Hub history: {_count(len(complete), 'week')} imported from {sources} "
            f"({complete[0].day} to {complete[-1].day})"
        )
    else:
        line = "Whole-Hub history: no archive week imported yet (run `hubpulse backfill`)"
    if failed:
        days = ", ".join(str(week.day) for week in failed[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        line += f"; {_count(len(failed), 'week')} failed ({days}{more})"
    lines = [line + "."]
    for check in checks:
        if not check.available and check.unavailable_since is not None:
            lines.append(
                f"Archive {check.source}: unavailable since "
                f"{check.unavailable_since:%Y-%m-%d %H:%M} UTC ({check.error}); answers use the "
                "weeks already imported and the live snapshots."
            )
    return lines


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _mib(size: int | None) -> str:
    return f"{size / MIB:,.1f} MiB" if size is not None else "?"


@snapshots_group.command("prune")
@click.option("--keep-daily", type=click.IntRange(0), default=0, metavar="M", help="Days kept.")
@click.option("--keep-weekly", type=click.IntRange(0), default=0, metavar="N", help="Weeks kept.")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; delete nothing.")
@user_errors
def prune_command(keep_daily: int, keep_weekly: int, dry_run: bool) -> None:
    """Delete old snapshots: keep each day's latest for the last M days that have one, and
    each ISO week's latest for the last N weeks that have one (UTC).

    The latest complete snapshot, running ones, and those a digest or share subscription
    compares with are always kept. Deletion is one transaction; SQLite is then vacuumed.
    """
    if not keep_daily and not keep_weekly:
        raise CliError("say what to keep: --keep-daily M and/or --keep-weekly N")
    engine = open_store(settings())
    size_before = sqlite_size(engine)
    plan = prune(engine, keep_daily=keep_daily, keep_weekly=keep_weekly, dry_run=dry_run)
    if not plan.delete:
        click.echo(f"Nothing to prune: all {len(plan.keep)} snapshots are kept.")
        return
    oldest, newest = plan.delete[-1].taken_at, plan.delete[0].taken_at
    span = f"taken {oldest:%Y-%m-%d} to {newest:%Y-%m-%d}"
    if dry_run:
        click.echo(f"Would delete {len(plan.delete)} snapshots ({span}) and keep {len(plan.keep)}.")
        for snapshot in plan.delete:
            click.echo(f"  {snapshot.id}  {snapshot.taken_at:%Y-%m-%d %H:%M}  {snapshot.status}")
        return
    size = ""
    if size_before is not None:
        size = f"; database {_mib(size_before)} -> {_mib(sqlite_size(engine))}"
    click.echo(f"Deleted {len(plan.delete)} snapshots ({span}), kept {len(plan.keep)}{size}.")
