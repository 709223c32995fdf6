"""``hubpulse export``: the download-share history as CSV, for spreadsheets.

By default the history of hubpulse's own snapshots (one row per snapshot and key); with
``--history`` the archived whole-Hub weeks (one row per week and key, ``--target`` and
``--period`` to narrow it). Rows of the illustrative demo data say so twice: a leading
``# illustrative demo data`` comment line, and an ``illustrative`` column that survives a
spreadsheet import that drops comments.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TextIO

import click
import pandas as pd
from sqlalchemy import Engine, select

from bot.answers.names import country_code
from bot.cli.base import main, open_store, settings, user_errors
from bot.core.clock import SystemClock
from bot.core.errors import UserError
from bot.core.registry import Registry, country_name, load_registry
from bot.model.aggregates import ATTRIBUTIONS, COUNTRY, ORG
from bot.model.period_shares import find_span
from bot.model.periods import ALL_TIME, parse_period
from bot.store import schema
from bot.store.history import History, WeekRow
from bot.store.history_tables import archive_weeks, week_aggregates
from bot.store.snapshots import COMPLETE, is_demo_source

ILLUSTRATIVE = "illustrative"
ILLUSTRATIVE_LINE = (
    "# illustrative demo data (hubpulse demo): real org and model names, invented figures; "
    "not live Hub figures"
)
"""The first line of a CSV holding demo rows."""
COLUMNS = (
    "snapshot_id",
    "taken_at",
    "attribution",
    "level",
    "key",
    "name",
    "country",
    "downloads",
    "models",
    "share_percent",
    "rank",
    ILLUSTRATIVE,
)
HISTORY_COLUMNS = (
    "week",
    "source",
    "method",
    "attribution",
    "level",
    "key",
    "name",
    "country",
    "models",
    "downloads_30d",
    "share_30d_percent",
    "rank_30d",
    "downloads_all_time",
    "share_all_time_percent",
    ILLUSTRATIVE,
)
BOTH_COUNTS = "30-day and all-time counts"
THIRTY_DAY_ONLY = "30-day counts only (the week has no downloadsAllTime)"
"""``method``: what an archived week's file carried."""
PERIODS = "2025, 2025-Q3, 'since 2025-01-20', 30d or all-time"


def _org_name(registry: Registry, key: str) -> str:
    org = registry.get(key)
    return org.display_name if org else key


def _named(frame: pd.DataFrame, level: str, registry: Registry) -> None:
    """Add each key's ``name`` and ``country``."""
    if level == COUNTRY:
        frame["country"] = frame["key"]
        frame["name"] = frame["key"].map(country_name)
    else:
        frame["country"] = frame["key"].map(registry.country_of)
        frame["name"] = frame["key"].map(lambda key: _org_name(registry, key))


def share_history(
    engine: Engine, attributions: tuple[str, ...], level: str, registry: Registry
) -> pd.DataFrame:
    """One row per complete snapshot and key, oldest snapshot first, then by rank."""
    a, s = schema.aggregates, schema.snapshots
    query = (
        select(
            s.c.id.label("snapshot_id"),
            s.c.taken_at,
            s.c.source,
            a.c.attribution,
            a.c.level,
            a.c.key,
            a.c.downloads,
            a.c.models,
            a.c.share,
            a.c.rank,
        )
        .join(a, a.c.snapshot_id == s.c.id)
        .where(s.c.status == COMPLETE, a.c.attribution.in_(attributions), a.c.level == level)
        .order_by(s.c.taken_at, s.c.id, a.c.attribution, a.c.rank)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).mappings().all())
    if frame.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    frame["taken_at"] = pd.to_datetime(frame["taken_at"], utc=True).dt.strftime("%Y-%m-%d %H:%M")
    _named(frame, level, registry)
    frame["downloads"] = frame["downloads"].round().astype("int64")
    frame["share_percent"] = (frame["share"] * 100).round(4)
    frame[ILLUSTRATIVE] = frame["source"].map(is_demo_source)
    return frame[list(COLUMNS)]


def history_weeks(engine: Engine, period_text: str | None, today: date) -> list[WeekRow]:
    """The complete archived weeks, or those ``period_text`` is counted from (as ``/share``
    counts it; ``all-time``: every week)."""
    weeks = History(engine.connect).weeks()
    if period_text is None or not weeks:
        return weeks
    period = parse_period(period_text.lower().split(), today)
    if period is None:
        raise UserError(f"{period_text!r} is not a period hubpulse knows; try {PERIODS}.")
    if period.kind == ALL_TIME:
        return [week for week in weeks if week.day <= period.end]
    span = find_span(weeks, period)
    if span is None:
        raise UserError(
            f"No two archived weeks cover {period.label}: the history has the weeks of "
            f"{weeks[0].day} to {weeks[-1].day}."
        )
    return list(span.weeks)


def target_key(engine: Engine, text: str, registry: Registry) -> tuple[str, str]:
    """(level, key) of a country (``cn``, ``China``) or an org (registered, or any author
    the archived weeks hold)."""
    code = country_code(text)
    if code is not None:
        return COUNTRY, code
    org = registry.get(text)
    if org is not None:
        return ORG, org.org
    key = History(engine.connect).org_named(text)
    if key is None:
        raise UserError(f"No org or country called {text!r} in the registry or the archived weeks.")
    return ORG, key


def week_history(
    engine: Engine,
    weeks: Sequence[WeekRow],
    attributions: tuple[str, ...],
    level: str,
    registry: Registry,
    key: str | None = None,
) -> pd.DataFrame:
    """One row per archived week and key (of ``key`` only when given), oldest week first,
    then by 30-day rank."""
    if not weeks:
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    a, w = week_aggregates.c, archive_weeks.c
    query = (
        select(
            w.day.label("week"),
            w.source,
            w.downloads_all_time_total,
            a.attribution,
            a.level,
            a.key,
            a.models,
            a.downloads.label("downloads_30d"),
            a.share,
            a.rank.label("rank_30d"),
            a.downloads_all_time,
            a.share_all_time,
        )
        .join(archive_weeks, archive_weeks.c.id == a.week_id)
        .where(
            a.week_id.in_([week.id for week in weeks]),
            a.attribution.in_(attributions),
            a.level == level,
        )
        .order_by(w.day, a.attribution, a.rank)
    )
    if key is not None:
        query = query.where(a.key == key)
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).mappings().all())
    if frame.empty:
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    frame["week"] = frame["week"].map(lambda day: day.isoformat())
    frame["method"] = (
        frame["downloads_all_time_total"].isna().map({True: THIRTY_DAY_ONLY, False: BOTH_COUNTS})
    )
    _named(frame, level, registry)
    frame["downloads_30d"] = frame["downloads_30d"].round().astype("int64")
    frame["share_30d_percent"] = (frame["share"] * 100).round(4)
    frame["downloads_all_time"] = frame["downloads_all_time"].round().astype("Int64")
    frame["share_all_time_percent"] = (frame["share_all_time"] * 100).round(4)
    frame[ILLUSTRATIVE] = frame["source"].map(is_demo_source)
    return frame[list(HISTORY_COLUMNS)]


def write_csv(frame: pd.DataFrame, output: Path | None) -> None:
    """To ``output``, or standard output when it is None or ``-``; demo rows labelled."""
    if output is None or str(output) == "-":
        _write(frame, sys.stdout)
        return
    with output.open("w", newline="") as stream:
        _write(frame, stream)


def _write(frame: pd.DataFrame, stream: TextIO) -> None:
    if frame[ILLUSTRATIVE].any():
        stream.write(ILLUSTRATIVE_LINE + "\n")
    frame.to_csv(stream, index=False, lineterminator="\n")


@main.command("export")
@click.option(
    "--attribution",
    type=click.Choice([*ATTRIBUTIONS, "both"]),
    default="both",
    show_default=True,
    help="publisher: by the uploading org; lineage: by the root base model's org.",
)
@click.option("--level", type=click.Choice([COUNTRY, ORG]), default=COUNTRY, show_default=True)
@click.option(
    "--history",
    is_flag=True,
    help="The archived whole-Hub weeks (hubpulse backfill) instead of hubpulse's own snapshots.",
)
@click.option(
    "--target",
    help="With --history: one country (cn, China) or org (Qwen); sets the level.",
)
@click.option(
    "--period",
    help=f"With --history: the weeks a period is counted from ({PERIODS}).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True, path_type=Path),
    help="CSV file to write (default, or -: standard output).",
)
@user_errors
def export_command(
    attribution: str,
    level: str,
    history: bool,
    target: str | None,
    period: str | None,
    output: Path | None,
) -> None:
    """Write the share history as CSV: one row per snapshot (or, with --history, archived
    week) and country (or org), with its downloads, share (percent) and rank. Rows of the
    illustrative demo data say so (a leading comment line and the illustrative column)."""
    if not history and (target or period):
        raise UserError("--target and --period go with --history (the archived weeks).")
    engine = open_store(settings())
    attributions = ATTRIBUTIONS if attribution == "both" else (attribution,)
    registry = load_registry()
    if history:
        key = None
        if target is not None:
            level, key = target_key(engine, target, registry)
        weeks = history_weeks(engine, period, SystemClock().now().date())
        frame = week_history(engine, weeks, attributions, level, registry, key)
        counted = f"{frame['week'].nunique()} archived weeks"
    else:
        frame = share_history(engine, attributions, level, registry)
        counted = f"{frame['snapshot_id'].nunique()} snapshots"
    write_csv(frame, output)
    if output is not None and str(output) != "-":
        click.echo(f"Wrote {len(frame):,} rows from {counted} to {output}.", err=True)
