"""What a person typed, resolved to an org, a model or a country, the same way in every command.

Case never matters. An org is found by its Hub id, display name or alias (a family is named by
its root org, so ``qwen`` is both); a model by its full id, or by its bare name under a
registered org (``DeepSeek-R1``); a country by its code or name. An unknown name gets up to
three close matches, an ambiguous one the list of candidates. The user's words are escaped in
every message.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal, overload

from bot.answers.mrkdwn import echo, escape
from bot.core.errors import UserError
from bot.core.registry import (
    COUNTRY_ALIASES,
    COUNTRY_NAMES,
    REGION_ALIASES,
    REGION_ONLY,
    Org,
    Registry,
    country_name,
    fold,
    region_name,
)
from bot.store.reader import Model, Reader

MAX_NAME = 200
SUGGESTIONS = 3
MODEL_SUGGESTION_POOL = 200

COUNTRY_ADJECTIVES = {
    "AE": "Emirati",
    "CA": "Canadian",
    "CH": "Swiss",
    "CN": "Chinese",
    "DE": "German",
    "ES": "Spanish",
    "FR": "French",
    "GB": "British",
    "IL": "Israeli",
    "IN": "Indian",
    "JP": "Japanese",
    "KR": "South Korean",
    "NL": "Dutch",
    "PL": "Polish",
    "SE": "Swedish",
    "SG": "Singaporean",
    "TW": "Taiwanese",
    "US": "US",
}


@dataclass(frozen=True)
class OrgName:
    """An org (and so its family): ``org`` is the Hub author as the data spells it."""

    org: str
    display_name: str
    country: str
    registered: bool

    @property
    def country_name(self) -> str:
        return country_name(self.country)


@dataclass(frozen=True)
class ModelName:
    model: Model


@dataclass(frozen=True)
class CountryName:
    code: str

    @property
    def name(self) -> str:
        return country_name(self.code)


@dataclass(frozen=True)
class RegionName:
    """A region above countries (``eu``); ``/share`` answers for it."""

    region: str

    @property
    def name(self) -> str:
        return region_name(self.region)


@dataclass(frozen=True)
class GroupName:
    """Several registered orgs one alias names (``阿里巴巴``: the Alibaba orgs)."""

    label: str
    orgs: tuple[OrgName, ...]


Name = OrgName | ModelName | CountryName
Group = RegionName | GroupName
"""What ``resolve(..., groups=True)`` may also give."""


def normalize(text: str) -> str:
    return " ".join(text.split())


def with_article(adjective: str) -> str:
    """ "a US model", "an Israeli model"."""
    return f"{'an' if adjective[:1] in 'AEIO' else 'a'} {adjective}"


def country_adjective(code: str) -> str | None:
    return COUNTRY_ADJECTIVES.get(code)


def country_code(text: str) -> str | None:
    """``cn``, ``CN``, ``china``, ``United States`` -> the ISO code; else None."""
    low = fold(text)
    if low in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[low]
    if low.upper() in COUNTRY_NAMES and low.upper() not in REGION_ONLY:
        return low.upper()
    for code, name in COUNTRY_NAMES.items():
        if fold(name) == low and code not in REGION_ONLY:
            return code
    return None


def region_code(text: str) -> str | None:
    """``eu``, ``Europe``, ``other`` -> the region; else None (``us`` and ``china`` are
    countries, the same sets of orgs as their regions)."""
    return REGION_ALIASES.get(fold(text))


def org_name(org: Org) -> OrgName:
    return OrgName(org.org, org.display_name, org.country, registered=True)


def registered_orgs(registry: Registry, text: str) -> list[Org]:
    """The orgs ``text`` names by id, alias or display name (NFKC, case folded): one, none,
    or several when an alias names a group (``阿里巴巴``)."""
    low = fold(text)
    org = registry.get(low)
    if org is not None:
        return [org]
    if low in registry.aliases:
        return [o for o in map(registry.get, registry.aliases[low]) if o is not None]
    return [o for o in registry if fold(o.display_name) == low][:1]


def registered_org(registry: Registry, text: str) -> Org | None:
    """An org by id, alias or display name; None unless exactly one org answers."""
    found = registered_orgs(registry, text)
    return found[0] if len(found) == 1 else None


def _or_list(items: list[str]) -> str:
    quoted = [echo(item) for item in items]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def unknown_name(text: str, suggestions: list[str]) -> UserError:
    message = f"no org or model called {echo(text)}"
    if suggestions:
        message += f"; did you mean {_or_list(suggestions)}?"
    return UserError(message)


def ambiguous_name(text: str, candidates: list[str]) -> UserError:
    listed = "\n".join(f"• {candidate}" for candidate in candidates)
    return UserError(f"{echo(text)} could mean more than one thing; say which:\n{listed}")


def _suggest(low: str, registry: Registry) -> list[str]:
    """Up to three close spellings (org ids, display names, aliases, countries), one per target."""
    targets: dict[str, tuple[str, str]] = {}
    for org in registry:
        for spelling in (org.org, org.display_name, *org.aliases):
            targets.setdefault(fold(spelling), (spelling, org.org))
    for alias, code in COUNTRY_ALIASES.items():
        targets.setdefault(alias, (alias, f"country:{code}"))
    found: list[str] = []
    seen: set[str] = set()
    for match in difflib.get_close_matches(low, list(targets), n=12, cutoff=0.6):
        spelling, target = targets[match]
        if target not in seen:
            seen.add(target)
            found.append(spelling)
        if len(found) == SUGGESTIONS:
            break
    return found


def _model_suggestions(text: str, reader: Reader, snapshot_id: int) -> list[str]:
    """Close model ids of the org named before the slash."""
    owner, _, _ = text.partition("/")
    org = registered_org(reader.registry, owner)
    author = org.org if org else reader.author_named(snapshot_id, owner)
    if author is None:
        return _suggest(owner.lower(), reader.registry)
    ids = {
        m.id.lower(): m.id for m, _ in reader.top_models(snapshot_id, author, MODEL_SUGGESTION_POOL)
    }
    matches = difflib.get_close_matches(text.lower(), list(ids), n=SUGGESTIONS, cutoff=0.6)
    return [ids[match] for match in matches]


def _group(
    words: str, registry: Registry, groups: bool, code: str | None
) -> OrgName | GroupName | RegionName | None:
    """A region, or the org(s) an id or alias names; a group only when ``groups`` (else the
    list of its orgs to choose from)."""
    region = region_code(words) if groups else None
    if region is not None:
        return RegionName(region)
    orgs = registered_orgs(registry, words)
    if len(orgs) == 1:
        return org_name(orgs[0])
    if orgs and code is None:
        if groups:
            return GroupName(words, tuple(org_name(org) for org in orgs))
        raise ambiguous_name(words, [f"{echo(o.org)} ({escape(o.display_name)})" for o in orgs])
    return None


@overload
def resolve(
    text: str, reader: Reader, snapshot_id: int, *, groups: Literal[False] = False
) -> Name: ...


@overload
def resolve(text: str, reader: Reader, snapshot_id: int, *, groups: bool) -> Name | Group: ...


def resolve(text: str, reader: Reader, snapshot_id: int, *, groups: bool = False) -> Name | Group:
    """The org, model or country ``text`` names; UserError when none or several do.

    With ``groups`` (``/share``), also a region, or the group of orgs an alias names."""
    words = normalize(text)
    if not words or len(words) > MAX_NAME:
        raise unknown_name(words, [])
    registry = reader.registry
    low = fold(words)
    code = country_code(words)
    if "/" in words and code is None:
        model = reader.model(words)
        if model is None:
            raise unknown_name(words, _model_suggestions(words, reader, snapshot_id))
        return ModelName(model)
    found = _group(words, registry, groups, code)
    if isinstance(found, OrgName) and code is not None:
        raise ambiguous_name(
            words,
            [
                f"the org {echo(found.org)} ({escape(found.display_name)})",
                f"the country {escape(country_name(code))}",
            ],
        )
    if found is not None:
        return found
    if code is not None:
        return CountryName(code)
    author = reader.author_named(snapshot_id, words)
    if author is not None:
        return OrgName(author, author, registry.country_of(author), registered=False)
    bare = reader.models_named(f"{o.org}/{words}" for o in registry)
    if len(bare) == 1:
        return ModelName(bare[0])
    if bare:
        raise ambiguous_name(words, [echo(m.id) for m in bare])
    prefixed = [o for o in registry if f"{fold(o.display_name)} ".startswith(f"{low} ")]
    if len(prefixed) == 1:
        return org_name(prefixed[0])
    if prefixed:
        raise ambiguous_name(words, [f"{echo(o.org)} ({escape(o.display_name)})" for o in prefixed])
    raise unknown_name(words, _suggest(low, registry))
