"""New models as digests and alerts show them: ranked, grouped by org, noise left out.

"Notable first" means most downloaded, then most liked, in the latest snapshot. Third-party
quantizations (a GGUF of someone else's model) and tiny repos (hardly downloaded or liked yet)
are left out of the lists but counted, so the reader knows they exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.registry import Registry
from bot.model.aggregates import org_of
from bot.model.records import QUANTIZATION_SUFFIXES, QUANTIZATION_TAGS
from bot.store.reader import Model, Reader

HUB_URL = "https://huggingface.co"
TINY_DOWNLOADS = 100
TINY_LIKES = 5


@dataclass(frozen=True)
class Release:
    model_id: str
    author: str
    created_at: datetime | None
    downloads: int
    likes: int
    quantized: bool
    parent_orgs: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"{HUB_URL}/{self.model_id}"

    @property
    def name(self) -> str:
        return self.model_id.split("/", 1)[-1]

    @property
    def third_party_quantization(self) -> bool:
        """A quantized re-upload of another org's model (its declared parent is not the
        uploader's own)."""
        return self.quantized and bool(self.parent_orgs) and self.author not in self.parent_orgs

    @property
    def tiny(self) -> bool:
        return self.downloads < TINY_DOWNLOADS and self.likes < TINY_LIKES

    @property
    def rank_key(self) -> tuple[int, int, str]:
        return (-self.downloads, -self.likes, self.model_id)


@dataclass(frozen=True)
class OrgReleases:
    org: str
    display_name: str
    shown: tuple[Release, ...]
    more: int

    @property
    def total(self) -> int:
        return len(self.shown) + self.more


@dataclass(frozen=True)
class Grouped:
    """Releases grouped by org (orgs ordered by their most notable release)."""

    orgs: tuple[OrgReleases, ...]
    more_orgs: int
    more_orgs_models: int
    left_out_quantized: int
    left_out_tiny: int

    tiny_downloads: int = TINY_DOWNLOADS
    tiny_likes: int = TINY_LIKES


def _parents_of(model: Model) -> tuple[bool, tuple[str, ...]]:
    """(looks quantized, orgs of declared parents) from the model's tags and name."""
    quantized = model.id.lower().endswith(QUANTIZATION_SUFFIXES)
    parents: list[str] = []
    for tag in model.tags:
        low = tag.lower()
        if low in QUANTIZATION_TAGS or low.startswith("base_model:quantized:"):
            quantized = True
        if tag.startswith("base_model:") and "/" in tag:
            parents.append(org_of(tag.rsplit(":", 1)[-1]))
    return quantized, tuple(dict.fromkeys(parents))


def releases(reader: Reader, snapshot_id: int, models: Iterable[Model]) -> list[Release]:
    """Models with their downloads and likes in the snapshot (0 when it lacks them)."""
    listed = list(models)
    stats = reader.stats(snapshot_id, [m.id for m in listed])
    found = []
    for model in listed:
        stat = stats.get(model.id)
        quantized, parents = _parents_of(model)
        found.append(
            Release(
                model_id=model.id,
                author=model.author,
                created_at=model.created_at,
                downloads=stat.downloads if stat else 0,
                likes=stat.likes if stat else 0,
                quantized=quantized,
                parent_orgs=parents,
            )
        )
    return found


def group_by_org(
    found: Sequence[Release],
    registry: Registry,
    *,
    per_org: int,
    max_orgs: int,
    leave_out_noise: bool = True,
) -> Grouped:
    """The most notable ``per_org`` releases of the first ``max_orgs`` orgs."""
    quantized = tiny = 0
    kept: dict[str, list[Release]] = {}
    for release in sorted(found, key=lambda r: r.rank_key):
        if leave_out_noise and release.third_party_quantization:
            quantized += 1
        elif leave_out_noise and release.tiny:
            tiny += 1
        else:
            kept.setdefault(release.author, []).append(release)
    groups = []
    for org, items in kept.items():
        entry = registry.get(org)
        groups.append(
            OrgReleases(
                org,
                entry.display_name if entry else org,
                tuple(items[:per_org]),
                len(items[per_org:]),
            )
        )
    hidden = groups[max_orgs:]
    return Grouped(
        tuple(groups[:max_orgs]),
        len(hidden),
        sum(group.total for group in hidden),
        quantized,
        tiny,
    )
