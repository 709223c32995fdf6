"""Crossovers of the archived weeks that are news, for the digest and the share alerts.

The crossovers themselves are found by ``bot.model.crossovers`` between consecutive complete
weeks of the whole-Hub history (``bot.store.history``). What is news is decided here, by when a
pair of weeks became known (the later import of the two) rather than by the weeks' dates: the
archive publishes a week days after it starts, so a week imported after a digest was built is
announced by the next one instead of being skipped. Only pairs whose later week is recent count
(``weeks_from``), so a backfill that imports two years at once does not announce two years of
crossovers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise

from sqlalchemy import Engine

from bot.core.registry import Registry, country_name
from bot.model.aggregates import ATTRIBUTIONS, COUNTRY, LINEAGE, ORG, PUBLISHER
from bot.model.crossovers import (
    ALWAYS_COMPARED,
    COUNTRIES,
    FAMILIES,
    KINDS,
    TOP,
    Crossover,
    Share,
    WeekFigures,
    find_crossovers,
)
from bot.store.history import History, KeyWeek, WeekRow, imported_weeks
from bot.store.snapshots import is_demo_source


@dataclass(frozen=True)
class CrossoverNews:
    """A crossover with what a message says about it."""

    crossover: Crossover
    name: str
    """The side that passed, entered or left, as people call it ("the United States")."""
    other_name: str | None
    known_at: datetime
    """When both of its weeks were in the history."""
    top: int = TOP

    @property
    def illustrative(self) -> bool:
        """The crossover is between weeks of the bundled demo history."""
        return is_demo_source(self.crossover.source)

    @property
    def subject(self) -> str:
        """``name`` at the start of a sentence."""
        return "The" + self.name[3:] if self.name.startswith("the ") else self.name

    @property
    def is_cn_vs_us(self) -> bool:
        return self.crossover.kind == COUNTRIES and set(self.crossover.keys) == set(ALWAYS_COMPARED)


def recent_crossovers(
    engine: Engine,
    registry: Registry,
    *,
    weeks_from: date,
    known_after: datetime | None,
    known_until: datetime,
) -> list[CrossoverNews]:
    """The crossovers between consecutive complete weeks whose later week starts on or after
    ``weeks_from`` and which became known in (``known_after``, ``known_until``], in order of
    week, then kind."""
    history = History(engine.connect)
    imported = {week.day: week.imported_at for week in imported_weeks(engine)}
    figures: dict[int, WeekFigures] = {}
    found = []
    for earlier, later in pairwise(history.weeks()):
        if later.day < weeks_from or earlier.day not in imported or later.day not in imported:
            continue
        known_at = max(imported[earlier.day], imported[later.day])
        if known_at > known_until or (known_after is not None and known_at <= known_after):
            continue
        for week in (earlier, later):
            if week.id not in figures:
                figures[week.id] = week_figures(history, week)
        for crossover in find_crossovers(figures[earlier.id], figures[later.id]):
            found.append(
                CrossoverNews(
                    crossover,
                    _name(crossover.kind, crossover.side.key, registry),
                    None
                    if crossover.other is None
                    else _name(crossover.kind, crossover.other.key, registry),
                    known_at,
                )
            )
    return sorted(found, key=lambda n: (n.crossover.week, KINDS.index(n.crossover.kind)))


def week_figures(history: History, week: WeekRow) -> WeekFigures:
    """A stored week's shares, as ``find_crossovers`` takes them."""
    return WeekFigures(
        day=week.day,
        source=week.source,
        countries={
            attribution: _shares(history.level(week.id, attribution, COUNTRY))
            for attribution in ATTRIBUTIONS
        },
        families=_shares(history.level(week.id, LINEAGE, ORG)),
        orgs=_shares(history.level(week.id, PUBLISHER, ORG)),
        has_all_time=week.downloads_all_time_total is not None,
    )


def _shares(rows: dict[str, KeyWeek]) -> dict[str, Share]:
    return {key: Share(row.share, row.share_all_time) for key, row in rows.items()}


def _name(kind: str, key: str, registry: Registry) -> str:
    if kind == COUNTRIES:
        name = country_name(key)
        return f"the {name}" if name.startswith("United ") else name
    org = registry.get(key)
    name = org.display_name if org else key
    return f"the {name} family" if kind == FAMILIES else name
