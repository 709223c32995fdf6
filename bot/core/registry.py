"""The org registry: which Hub namespaces belong to which country.

It is a data file in the package (``bot/data/orgs.csv``), reviewed by people, with a source for
every country. Authors that are not in it count as other/unknown: a country is never guessed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

UNKNOWN_COUNTRY = "ZZ"
"""ISO 3166 reserves ZZ for unknown territory; we use it for unregistered authors."""

COUNTRY_NAMES = {
    "AE": "United Arab Emirates",
    "CA": "Canada",
    "CH": "Switzerland",
    "CN": "China",
    "DE": "Germany",
    "ES": "Spain",
    "FR": "France",
    "GB": "United Kingdom",
    "IL": "Israel",
    "IN": "India",
    "JP": "Japan",
    "KR": "South Korea",
    "NL": "Netherlands",
    "PL": "Poland",
    "SE": "Sweden",
    "SG": "Singapore",
    "TW": "Taiwan",
    "US": "United States",
    UNKNOWN_COUNTRY: "other/unknown",
}

COUNTRY_ALIASES = {
    "china": "CN",
    "prc": "CN",
    "chinese": "CN",
    "usa": "US",
    "america": "US",
    "united states": "US",
    "american": "US",
    "uk": "GB",
    "britain": "GB",
    "united kingdom": "GB",
    "france": "FR",
    "french": "FR",
    "uae": "AE",
    "canada": "CA",
    "germany": "DE",
    "korea": "KR",
    "south korea": "KR",
    "japan": "JP",
    "india": "IN",
    "israel": "IL",
    "unknown": UNKNOWN_COUNTRY,
    "other": UNKNOWN_COUNTRY,
}


def country_name(code: str) -> str:
    return COUNTRY_NAMES.get(code, code)


@dataclass(frozen=True)
class Org:
    org: str
    country: str
    display_name: str
    aliases: tuple[str, ...] = field(default=())
    source: str = ""


@dataclass(frozen=True)
class Registry:
    """Orgs by lower-cased Hub namespace, with alias lookups."""

    orgs: dict[str, Org]
    aliases: dict[str, str]

    @classmethod
    def from_orgs(cls, orgs: Iterable[Org]) -> Registry:
        by_org: dict[str, Org] = {}
        aliases: dict[str, str] = {}
        for org in orgs:
            key = org.org.lower()
            if key in by_org:
                raise ValueError(f"org {org.org} is registered twice")
            if len(org.country) != 2 or not org.country.isupper():
                raise ValueError(f"org {org.org}: country {org.country!r} is not ISO alpha-2")
            by_org[key] = org
            for alias in org.aliases:
                if alias in aliases:
                    raise ValueError(f"alias {alias!r} names both {aliases[alias]} and {org.org}")
                aliases[alias] = org.org
        return cls(by_org, aliases)

    def __iter__(self) -> Iterator[Org]:
        return iter(self.orgs.values())

    def __len__(self) -> int:
        return len(self.orgs)

    def get(self, author: str) -> Org | None:
        return self.orgs.get(author.lower())

    def country_of(self, author: str) -> str:
        org = self.orgs.get(author.lower())
        return org.country if org else UNKNOWN_COUNTRY


def parse_csv(lines: Iterable[str]) -> Registry:
    orgs = []
    for row in csv.DictReader(lines):
        aliases = tuple(a.strip().lower() for a in (row.get("aliases") or "").split("|"))
        orgs.append(
            Org(
                org=row["org"].strip(),
                country=row["country"].strip().upper(),
                display_name=row["display_name"].strip() or row["org"].strip(),
                aliases=tuple(a for a in aliases if a),
                source=(row.get("source") or "").strip(),
            )
        )
    return Registry.from_orgs(orgs)


@cache
def load_registry() -> Registry:
    """The registry bundled with the package."""
    text = resources.files("bot").joinpath("data/orgs.csv").read_text(encoding="utf-8")
    return parse_csv(text.splitlines())
