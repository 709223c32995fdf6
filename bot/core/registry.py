"""The org registry: which Hub namespaces belong to which country, and so to which region.

It is a data file in the package (``bot/data/orgs.csv``), reviewed by people, with a source for
every org. Authors that are not in it are *unregistered*: a country is never guessed. Regions
(``us``, ``china``, ``eu``, ``other``, ``unknown``, as the ATOM Project's registry has them) sit
above countries; each country's region is declared once, here (``region_of``).

An operator extends the bundled registry with files of the same format or of the ATOM format
(``hf_org,region,notes``); ``layered`` puts such rows over the bundled ones. Reading a file or
URL and storing imports is the job of ``bot.ingest.org_source`` and ``bot.store.orgs``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources

UNKNOWN_COUNTRY = "ZZ"
"""ISO 3166 reserves ZZ for unknown territory; we use it for unregistered authors."""

COUNTRY_NAMES = {
    "AE": "United Arab Emirates",
    "AT": "Austria",
    "AU": "Australia",
    "BE": "Belgium",
    "CA": "Canada",
    "CH": "Switzerland",
    "CN": "China",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "GB": "United Kingdom",
    "HK": "Hong Kong",
    "IE": "Ireland",
    "IL": "Israel",
    "IN": "India",
    "IT": "Italy",
    "JP": "Japan",
    "KR": "South Korea",
    "NL": "Netherlands",
    "NO": "Norway",
    "PL": "Poland",
    "PT": "Portugal",
    "RU": "Russia",
    "SA": "Saudi Arabia",
    "SE": "Sweden",
    "SG": "Singapore",
    "TW": "Taiwan",
    "US": "United States",
    "VN": "Vietnam",
    # Placeholders for orgs whose region is known but not their country (an ATOM import):
    # EU is exceptionally reserved by ISO 3166 for the European Union, XO and XU are
    # user-assigned codes.
    "EU": "European Union (country not given)",
    "XO": "another country (not given)",
    "XU": "no single country",
    UNKNOWN_COUNTRY: "other/unknown",
}

EU_COUNTRIES = frozenset(
    {"AT", "BE", "CZ", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "NL", "PL", "PT", "SE", "EU"}
)
"""Members of the European Union among the countries above (and the EU placeholder)."""

REGION_NAMES = {
    "us": "United States",
    "china": "China",
    "eu": "European Union",
    "other": "Other countries",
    "unknown": "No single country",
}
"""The regions, as the ATOM Project's registry names them: every registered org is in one."""

REGION_PLACEHOLDER = {"us": "US", "china": "CN", "eu": "EU", "other": "XO", "unknown": "XU"}
"""The country an org gets when only its region is known."""
REGION_ONLY = frozenset(
    code for region, code in REGION_PLACEHOLDER.items() if region not in ("us", "china")
)
"""Placeholder codes that are not countries (EU, XO, XU): never named as a country."""

REGION_ALIASES = {
    "eu": "eu",
    "europe": "eu",
    "european union": "eu",
    "european": "eu",
    "欧盟": "eu",
    "other": "other",
    "other countries": "other",
    "rest of world": "other",
    "unknown": "unknown",
    "no single country": "unknown",
}
"""Words that name a region (``us`` and ``china`` are the countries of the same name)."""

COUNTRY_ALIASES = {
    "china": "CN",
    "prc": "CN",
    "chinese": "CN",
    "中国": "CN",
    "usa": "US",
    "america": "US",
    "united states": "US",
    "american": "US",
    "美国": "US",
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
    "日本": "JP",
    "india": "IN",
    "israel": "IL",
    "unregistered": UNKNOWN_COUNTRY,
    "unregistered authors": UNKNOWN_COUNTRY,
    "unknown": UNKNOWN_COUNTRY,
    "other": UNKNOWN_COUNTRY,
}
"""``other`` and ``unknown`` name the unregistered authors in commands without regions;
``/share`` reads them as regions first (``REGION_ALIASES``)."""

SOURCE_FIELDS = ("org", "country", "display_name", "aliases", "source")
"""Our CSV's header, in order."""
ATOM_FIELDS = ("hf_org", "region", "notes")
"""The ATOM Project registry's header, in order."""

HUB_NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


class RegistryError(ValueError):
    """A registry file that cannot be read; the message names the row."""


def fold(text: str) -> str:
    """How names are compared: NFKC (full-width letters, compatibility forms), case folded,
    whitespace collapsed; so ``ＱＷＥＮ``, ``Qwen`` and ``qwen`` are one name."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def country_name(code: str) -> str:
    return COUNTRY_NAMES.get(code, code)


_PLACEHOLDER_REGION = {code: region for region, code in REGION_PLACEHOLDER.items()}


def region_of(country: str) -> str | None:
    """The region of a country code; None for unregistered authors (they have no region)."""
    if country == UNKNOWN_COUNTRY:
        return None
    if country in EU_COUNTRIES:
        return "eu"
    return _PLACEHOLDER_REGION.get(country, "other")


def region_name(region: str) -> str:
    return REGION_NAMES.get(region, region)


@dataclass(frozen=True)
class Org:
    org: str
    country: str
    display_name: str
    aliases: tuple[str, ...] = field(default=())
    source: str = ""

    @property
    def region(self) -> str:
        return region_of(self.country) or "unknown"


@dataclass(frozen=True)
class Registry:
    """Orgs by lower-cased Hub namespace; aliases (folded) name one org or a group of them."""

    orgs: dict[str, Org]
    aliases: dict[str, tuple[str, ...]]

    @classmethod
    def from_orgs(cls, orgs: Iterable[Org]) -> Registry:
        by_org: dict[str, Org] = {}
        aliases: dict[str, tuple[str, ...]] = {}
        for org in orgs:
            key = org.org.lower()
            if key in by_org:
                raise ValueError(f"org {org.org} is registered twice")
            if org.country not in COUNTRY_NAMES or org.country == UNKNOWN_COUNTRY:
                raise ValueError(f"org {org.org}: country {org.country!r} is not a known code")
            by_org[key] = org
            for alias in org.aliases:
                aliases[alias] = (*aliases.get(alias, ()), org.org)
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

    def in_region(self, region: str) -> list[Org]:
        return [org for org in self if org.region == region]

    def layered(self, over: Iterable[Org]) -> Registry:
        """This registry with ``over``'s orgs added, or replacing those of the same id."""
        orgs = dict(self.orgs)
        for org in over:
            orgs[org.org.lower()] = org
        return Registry.from_orgs(orgs.values())


def _aliases(raw: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(fold(a) for a in raw.split("|") if fold(a)))


def _row_org(row: dict[str, str]) -> Org:
    org = row["org"].strip()
    if not HUB_NAMESPACE.match(org):
        raise ValueError(f"{org!r} is not a Hub namespace")
    country = row["country"].strip().upper()
    if country not in COUNTRY_NAMES or country == UNKNOWN_COUNTRY:
        raise ValueError(f"country {country!r} is not a known code")
    source = row["source"].strip()
    if not source:
        raise ValueError(f"{org} has no source")
    return Org(org, country, row["display_name"].strip() or org, _aliases(row["aliases"]), source)


def _atom_org(row: dict[str, str], origin: str, known: Registry | None) -> Org:
    """An ATOM row as an org: an org already known keeps its country when the region agrees,
    else it takes the region's placeholder country."""
    org = row["hf_org"].strip()
    if not HUB_NAMESPACE.match(org):
        raise ValueError(f"{org!r} is not a Hub namespace")
    region = row["region"].strip().lower()
    if region not in REGION_NAMES:
        raise ValueError(f"region {region!r} is not one of {', '.join(REGION_NAMES)}")
    notes = row["notes"].strip()
    source = f"{origin} (ATOM registry{': ' + notes if notes else ''})"
    current = known.get(org) if known else None
    if current is not None:
        if current.region == region:
            return current
        moved = f"{current.source}; region {region} from {source}"
        return replace(current, country=REGION_PLACEHOLDER[region], source=moved)
    return Org(org, REGION_PLACEHOLDER[region], org, (), source)


def parse_rows(
    lines: Iterable[str], origin: str = "orgs.csv", known: Registry | None = None
) -> list[Org]:
    """Orgs from our CSV or the ATOM format (told apart by the header), strictly: a bad row
    raises RegistryError naming its line. ATOM rows for orgs in ``known`` keep what it says of
    them but the region."""
    reader = csv.reader(lines)
    header = tuple(cell.strip().lower() for cell in next(reader, []))
    if header not in (SOURCE_FIELDS, ATOM_FIELDS):
        raise RegistryError(
            f"{origin} line 1: the header must be {','.join(SOURCE_FIELDS)} "
            f"or {','.join(ATOM_FIELDS)}"
        )
    orgs: dict[str, Org] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise RegistryError(
                f"{origin} line {line}: {len(cells)} fields, expected {len(header)}"
            )
        row = dict(zip(header, cells, strict=True))
        try:
            org = _row_org(row) if header == SOURCE_FIELDS else _atom_org(row, origin, known)
        except ValueError as exc:
            raise RegistryError(f"{origin} line {line}: {exc}") from None
        if org.org.lower() in orgs:
            raise RegistryError(f"{origin} line {line}: {org.org} is listed twice")
        orgs[org.org.lower()] = org
    return list(orgs.values())


def parse_csv(lines: Iterable[str], origin: str = "orgs.csv") -> Registry:
    return Registry.from_orgs(parse_rows(lines, origin))


@cache
def load_registry() -> Registry:
    """The registry bundled with the package, read once."""
    text = resources.files("bot").joinpath("data/orgs.csv").read_text(encoding="utf-8")
    return parse_csv(text.splitlines())


@dataclass(frozen=True)
class Changes:
    """What layering some orgs over a registry would do."""

    added: list[Org]
    changed: list[tuple[Org, Org]]
    """(before, after) pairs."""
    unchanged: list[Org]

    @property
    def stored(self) -> list[Org]:
        return [*self.added, *(after for _, after in self.changed)]


def changes(current: Registry, incoming: Iterable[Org]) -> Changes:
    added: list[Org] = []
    changed: list[tuple[Org, Org]] = []
    unchanged: list[Org] = []
    for org in incoming:
        before = current.get(org.org)
        if before is None:
            added.append(org)
        elif before == org:
            unchanged.append(org)
        else:
            changed.append((before, org))
    return Changes(added, changed, unchanged)
