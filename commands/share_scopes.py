"""Figures ``/share`` derives from a snapshot's stored country and org rows.

Unregistered authors are not a country: ranks among countries leave them out (and the
placeholders of orgs whose country is not given), so the overview's third country is the one
``/share <country>`` calls "rank #3". A region is the sum of its countries; a group of orgs
(``阿里巴巴``) the sum of its orgs, families included (families by root are disjoint).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.registry import REGION_NAMES, REGION_ONLY, UNKNOWN_COUNTRY, region_of
from bot.model.aggregates import AggregateRow


@dataclass(frozen=True)
class Figure:
    """A share of downloads, its change since a week earlier, and its rank (if ranked)."""

    share: float
    downloads: float
    change: float | None
    rank: int | None = None


@dataclass(frozen=True)
class Rows:
    """One level's rows in a snapshot, and in the one a week earlier (None: no such one)."""

    now: list[AggregateRow]
    before: list[AggregateRow] | None


def is_country(code: str) -> bool:
    """A country proper: not the unregistered authors, not a region's placeholder."""
    return code != UNKNOWN_COUNTRY and code not in REGION_ONLY


def countries_ranked(rows: Sequence[AggregateRow]) -> list[str]:
    """Country codes, largest first (the stored order), countries proper only."""
    return [row.key for row in sorted(rows, key=lambda row: row.rank) if is_country(row.key)]


def country_rank(rows: Sequence[AggregateRow], code: str) -> int | None:
    ranked = countries_ranked(rows)
    return ranked.index(code) + 1 if code in ranked else None


def summed(rows: Rows, keys: Iterable[str], rank: int | None = None) -> Figure:
    """The sum of some keys' rows, with its change since a week earlier."""
    wanted = set(keys)
    share = sum(row.share for row in rows.now if row.key in wanted)
    change = None
    if rows.before is not None:
        change = share - sum(row.share for row in rows.before if row.key in wanted)
    downloads = sum(row.downloads for row in rows.now if row.key in wanted)
    return Figure(share, downloads, change, rank)


def region_shares(rows: Iterable[AggregateRow]) -> dict[str, float]:
    """Each region's share, from country rows; unregistered authors are in none."""
    shares: defaultdict[str, float] = defaultdict(float)
    for row in rows:
        region = region_of(row.key)
        if region is not None:
            shares[region] += row.share
    return shares


def region_rank(rows: Iterable[AggregateRow], region: str) -> int:
    """1 + the regions with a larger share (ties by the regions' declared order)."""
    shares = region_shares(rows)
    order = list(REGION_NAMES)

    def place(name: str) -> tuple[float, int]:
        return (-shares.get(name, 0.0), order.index(name))

    return 1 + sum(1 for other in order if place(other) < place(region))


def region_countries(rows: Iterable[AggregateRow], region: str) -> list[str]:
    return [row.key for row in rows if region_of(row.key) == region]
