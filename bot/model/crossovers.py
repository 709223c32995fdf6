"""Crossovers between two consecutive archived weeks: the week one side passed another.

Pure: from each week's shares (``WeekFigures``, which the caller builds from the stored
aggregates) to ``Crossover`` records that name the week, both sides, their shares before and
after, the attribution and the measure, so that a message can say "China passed the United
States in 30-day downloads (publisher attribution) in the week of 7 Jul 2025: 17.1% vs 15.8%".

Three kinds:

* countries: China and the US (a share of 0 where absent), and any two of the later week's top
  countries present in both weeks (the unregistered authors are not a country, nor are the
  placeholders of orgs whose region only is known), at country level in each attribution;
* families: a family (lineage attribution, org level: the org of the models' root) passing
  another, both among the later week's top families by that measure and both present in the
  earlier week (a family's first appearance is not a pass);
* top orgs: an org entering or leaving the top 10 orgs by 30-day downloads (publisher
  attribution), ranked as the aggregates rank them (share, then key).

Countries and families are compared in 30-day downloads and, when both weeks have them,
all-time downloads. A pass is strict: behind before, ahead after; a tie is not news.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import combinations

from bot.core.registry import REGION_ONLY, UNKNOWN_COUNTRY
from bot.model.aggregates import ATTRIBUTIONS, LINEAGE, PUBLISHER

COUNTRIES, FAMILIES, TOP_ORGS = "countries", "families", "top orgs"
KINDS = (COUNTRIES, FAMILIES, TOP_ORGS)
PASSED, ENTERED, LEFT = "passed", "entered", "left"
DOWNLOADS, ALL_TIME = "30-day", "all-time"
TOP = 10
ALWAYS_COMPARED = ("CN", "US")
"""Compared whatever their rank: the pair the digest reports."""
NOT_COUNTRIES = frozenset({UNKNOWN_COUNTRY, *REGION_ONLY})
"""Country-level keys that are no country: never a side of a crossover."""


@dataclass(frozen=True)
class Share:
    """A key's share of one week's downloads: 30-day, and all-time when the week had it."""

    share: float
    share_all_time: float | None = None


@dataclass(frozen=True)
class WeekFigures:
    """What the crossovers of a week are found from (shares are fractions of the whole Hub)."""

    day: date
    source: str
    """Where the week came from (the archive's name), for the message."""
    countries: Mapping[str, Mapping[str, Share]]
    """Country level, by attribution."""
    families: Mapping[str, Share]
    """Lineage attribution, org level."""
    orgs: Mapping[str, Share]
    """Publisher attribution, org level."""
    has_all_time: bool


@dataclass(frozen=True)
class Side:
    """One side of a crossover: its share (and rank, for the top orgs) before and after."""

    key: str
    before: float
    after: float
    rank_before: int | None = None
    rank_after: int | None = None


@dataclass(frozen=True)
class Crossover:
    kind: str
    event: str
    """``passed`` (``side`` passed ``other``), ``entered`` or ``left`` (the top orgs)."""
    week: date
    """The week it happened: the later of the two weeks compared."""
    previous_week: date
    source: str
    attribution: str
    measure: str
    side: Side
    other: Side | None
    """The side passed; None for an org entering or leaving the top orgs."""

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.side.key,) if self.other is None else (self.side.key, self.other.key)

    @property
    def identity(self) -> str:
        """What makes it one crossover (the same event found again has the same identity)."""
        return "|".join(
            (
                self.week.isoformat(),
                self.kind,
                self.event,
                self.attribution,
                self.measure,
                *self.keys,
            )
        )


Measure = Callable[[Share], float | None]
MEASURES: dict[str, Measure] = {
    DOWNLOADS: lambda share: share.share,
    ALL_TIME: lambda share: share.share_all_time,
}


def find_crossovers(earlier: WeekFigures, later: WeekFigures, *, top: int = TOP) -> list[Crossover]:
    """Every crossover from ``earlier`` to ``later`` (consecutive archived weeks)."""
    measures = [DOWNLOADS] + ([ALL_TIME] if earlier.has_all_time and later.has_all_time else [])
    found: list[Crossover] = []
    for measure in measures:
        for attribution in ATTRIBUTIONS:
            before = _values(earlier.countries.get(attribution, {}), measure)
            after = _values(later.countries.get(attribution, {}), measure)
            ranked = [key for key in _ranking(after) if key not in NOT_COUNTRIES][:top]
            for key in ALWAYS_COMPARED:
                before.setdefault(key, 0.0)
                after.setdefault(key, 0.0)
            compared = {*(key for key in ranked if key in before), *ALWAYS_COMPARED}
            pairs = Pairs(COUNTRIES, attribution, measure, before, after)
            found += pairs.passes(compared, earlier, later)
        before = _values(earlier.families, measure)
        after = _values(later.families, measure)
        leading = [key for key in _ranking(after)[:top] if key in before]
        found += Pairs(FAMILIES, LINEAGE, measure, before, after).passes(leading, earlier, later)
    return found + _top_orgs(earlier, later, top)


@dataclass(frozen=True)
class Pairs:
    """Shares of one kind, attribution and measure in the two weeks."""

    kind: str
    attribution: str
    measure: str
    before: Mapping[str, float]
    after: Mapping[str, float]

    def passes(
        self, keys: Iterable[str], earlier: WeekFigures, later: WeekFigures
    ) -> list[Crossover]:
        """Each pair of ``keys`` (all present in both weeks) whose order flipped."""
        found = []
        for a, b in combinations(sorted(set(keys)), 2):
            ahead = self._passed(a, b) or self._passed(b, a)
            if ahead is None:
                continue
            leader, passed = ahead
            found.append(
                Crossover(
                    self.kind,
                    PASSED,
                    later.day,
                    earlier.day,
                    later.source,
                    self.attribution,
                    self.measure,
                    Side(leader, self.before[leader], self.after[leader]),
                    Side(passed, self.before[passed], self.after[passed]),
                )
            )
        return found

    def _passed(self, a: str, b: str) -> tuple[str, str] | None:
        """(a, b) when a was behind b before and is ahead of it after."""
        before, after = self.before, self.after
        return (a, b) if before[a] < before[b] and after[a] > after[b] else None


def _values(shares: Mapping[str, Share], measure: str) -> dict[str, float]:
    """Each key's share by ``measure`` (keys without that figure left out)."""
    pick = MEASURES[measure]
    values = {key: pick(share) for key, share in shares.items()}
    return {key: value for key, value in values.items() if value is not None}


def _ranking(values: Mapping[str, float]) -> list[str]:
    """Keys by share, largest first, ties to the smaller key (as the aggregates rank)."""
    return sorted(values, key=lambda key: (-values[key], key))


def _top_orgs(earlier: WeekFigures, later: WeekFigures, top: int) -> list[Crossover]:
    before = _values(earlier.orgs, DOWNLOADS)
    after = _values(later.orgs, DOWNLOADS)
    rank_before = {key: rank for rank, key in enumerate(_ranking(before), start=1)}
    rank_after = {key: rank for rank, key in enumerate(_ranking(after), start=1)}
    was = {key for key, rank in rank_before.items() if rank <= top}
    now = {key for key, rank in rank_after.items() if rank <= top}
    found = []
    for event, keys in ((ENTERED, now - was), (LEFT, was - now)):
        for key in sorted(keys, key=lambda k: (rank_after.get(k, len(rank_after) + 1), k)):
            side = Side(
                key,
                before.get(key, 0.0),
                after.get(key, 0.0),
                rank_before.get(key),
                rank_after.get(key),
            )
            found.append(
                Crossover(
                    TOP_ORGS,
                    event,
                    later.day,
                    earlier.day,
                    later.source,
                    PUBLISHER,
                    DOWNLOADS,
                    side,
                    None,
                )
            )
    return found
