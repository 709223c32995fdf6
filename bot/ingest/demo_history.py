"""Two years of illustrative archive weeks for the demo: the demo models as the whole Hub,
week by week, through the real week reduction and store.

Going back from the last demo snapshot, each model's weekly downloads follow its trend
backwards, as the demo snapshots do over their weeks and damped before them
(``HISTORY_DAMPING``) so that two years are plausible: Chinese families
smaller and American ones larger two years ago, China passing the US in the last months, as
in the published story. A model exists from its creation date. The oldest weeks lack
``downloadsAllTime``, as the real archive's first weeks did. Every week's ``source`` is the
demo's, so answers built on it say the data is illustrative.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import pyarrow as pa
from sqlalchemy import Engine

from bot.core.registry import Registry
from bot.ingest.demo_data import WEEKS, DemoModel, created_at
from bot.model.hub_week import reduce_week
from bot.store.history import WeekCost, write_week

HISTORY_WEEKS = 104
WEEKS_WITHOUT_ALL_TIME = 12
"""The oldest demo weeks have no all-time counts, like the archive's first weeks."""
HISTORY_DAMPING = 0.3
DAYS_PER_MONTH = 30 / 7


def history_days(last: datetime, weeks: int = HISTORY_WEEKS) -> list[date]:
    """Week labels (Mondays, the start of each week), oldest first, the newest the last full
    week before ``last``."""
    newest = last.date() - timedelta(days=last.weekday() + 7)
    return [newest - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def _weekly(model: DemoModel, born: datetime, start: datetime, weeks_back: float) -> float:
    """Downloads in the week that starts at ``start``, ``weeks_back`` weeks before the last."""
    age_days = (start + timedelta(days=7) - born).total_seconds() / 86400
    if age_days <= 0:
        return 0.0
    ramp = min(age_days / 7, 1.0)
    wobble = 0.9 + 0.2 * (zlib.crc32(f"{model.id}/{start:%Y%m%d}".encode()) % 1000) / 1000
    return model.weekly * model.trend ** _exponent(weeks_back) * ramp * wobble


def _exponent(weeks_back: float) -> float:
    """Weeks of trend since the first demo snapshot (whose level ``weekly`` is): as the demo
    snapshots grow over their ``WEEKS`` weeks, and damped before them."""
    since_first = (WEEKS - 1) - weeks_back
    return since_first if since_first >= 0 else since_first * HISTORY_DAMPING


def week_tables(
    models: Sequence[DemoModel], last: datetime, weeks: int = HISTORY_WEEKS
) -> list[tuple[date, pa.Table]]:
    """Each history week's archive table (the columns the archive has), oldest first."""
    days = history_days(last, weeks)
    born = [created_at(model, last) for model in models]
    totals = [0.0] * len(models)
    tables = []
    for index, day in enumerate(days):
        start = datetime.combine(day, time(), UTC)
        weeks_back = (last - start).total_seconds() / (7 * 86400)
        rows: dict[str, list[object]] = {
            "id": [],
            "createdAt": [],
            "downloads": [],
            "downloadsAllTime": [],
            "tags": [],
        }
        for position, model in enumerate(models):
            if born[position] >= start + timedelta(days=7):
                continue
            weekly = _weekly(model, born[position], start, weeks_back)
            totals[position] += weekly
            rows["id"].append(model.id)
            rows["createdAt"].append(born[position])
            rows["downloads"].append(round(weekly * DAYS_PER_MONTH))
            rows["downloadsAllTime"].append(math.floor(model.prior * 0.2 + totals[position]))
            rows["tags"].append([f"base_model:{model.relation}:{p}" for p in model.parents])
        if index < WEEKS_WITHOUT_ALL_TIME:
            del rows["downloadsAllTime"]
        tables.append((day, pa.table(rows)))
    return tables


def load_history(
    engine: Engine,
    models: Sequence[DemoModel],
    registry: Registry,
    last: datetime,
    source: str,
    weeks: int = HISTORY_WEEKS,
) -> int:
    """Write the demo's archive weeks (each in its own transaction); how many."""
    tables = week_tables(models, last, weeks)
    for day, table in tables:
        reduced = reduce_week(day, table.to_batches(), registry)
        missing = () if "downloadsAllTime" in table.column_names else ("downloadsAllTime",)
        cost = WeekCost(
            rows=table.num_rows, missing_columns=missing, file_bytes=None, bytes_read=0, seconds=0
        )
        write_week(engine, reduced, source, cost, last)
    return len(tables)
