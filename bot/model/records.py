"""Pure transforms from Hub model records to the rows hubpulse stores.

The input is what ``huggingface_hub`` returns (``ModelInfo``) or the raw JSON dict of the Hub
API; both are read defensively because real records often lack fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.model.fields import ModelMetadata

RELATIONS = ("finetune", "quantized", "adapter", "merge")
UNKNOWN_RELATION = "unknown"

QUANTIZATION_TAGS = frozenset(
    {"gguf", "gptq", "awq", "exl2", "mlx", "bitsandbytes", "4-bit", "8-bit", "quantized"}
)
QUANTIZATION_SUFFIXES = ("-gguf", "-gptq", "-awq", "-exl2", "-mlx", "-4bit", "-8bit", "-int4")


@dataclass(frozen=True, slots=True)
class Edge:
    child: str
    parent: str
    relation: str


@dataclass(slots=True)
class ModelRecord(ModelMetadata):
    """One model as seen in one crawl: its metadata, that crawl's figures and its parent links."""

    downloads: int
    downloads_all_time: int | None
    likes: int
    trending_score: float | None
    children_count: int | None
    parents: list[Edge] = field(default_factory=list)

    @property
    def looks_quantized(self) -> bool:
        """True for quantized re-uploads, whatever relation the Hub inferred.

        The Hub's inference is imperfect (GGUF repos tagged ``finetune`` are common), so the
        repo's own tags and name are consulted too.
        """
        return looks_quantized(self.id, self.tags, [edge.relation for edge in self.parents])


def looks_quantized(model_id: str, tags: Iterable[str], relations: Iterable[str] = ()) -> bool:
    """True for quantized re-uploads: a ``quantized`` parent link (given, or in the Hub's
    ``base_model:quantized:`` tags), a quantization tag, or a quantization suffix in the name."""
    if "quantized" in relations:
        return True
    lowered = {tag.lower() for tag in tags}
    if QUANTIZATION_TAGS & lowered or any(t.startswith("base_model:quantized:") for t in lowered):
        return True
    return model_id.lower().endswith(QUANTIZATION_SUFFIXES)


def _get(record: Any, snake: str, camel: str | None = None) -> Any:
    if isinstance(record, (dict, Mapping)):  # dict first: the ABC check is slow, per field
        if camel is not None and camel in record:
            return record[camel]
        return record.get(snake)
    value = getattr(record, snake, None)
    if value is None and camel is not None:
        value = getattr(record, camel, None)
    return value


def parse_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def children_total(value: Any) -> int | None:
    """``childrenModelCount`` is an int on the Hub; some dumps give counts per relation."""
    if isinstance(value, Mapping):
        counts = [_int(v) for v in value.values()]
        return sum(c for c in counts if c is not None)
    return _int(value)


def parse_parents(model_id: str, tags: Iterable[str], base_models: Any = None) -> list[Edge]:
    """Direct parents from ``base_model:<relation>:<id>`` tags, else from ``baseModels``.

    A bare ``base_model:<id>`` tag with no relation tag beside it gives relation ``unknown``.
    Self-references are dropped.
    """
    with_relation: dict[str, str] = {}
    bare: list[str] = []
    for tag in tags:
        if not tag.startswith("base_model:"):
            continue
        rest = tag[len("base_model:") :]
        head, sep, tail = rest.partition(":")
        if sep and head in RELATIONS and "/" in tail:
            with_relation.setdefault(tail, head)
        elif "/" in rest and ":" not in rest:
            bare.append(rest)
    if not with_relation and not bare and isinstance(base_models, Mapping):
        relation = base_models.get("relation")
        relation = relation if relation in RELATIONS else UNKNOWN_RELATION
        for item in base_models.get("models") or ():
            parent = item.get("id") if isinstance(item, Mapping) else None
            if isinstance(parent, str) and "/" in parent:
                with_relation.setdefault(parent, relation)
    edges = [Edge(model_id, parent, relation) for parent, relation in with_relation.items()]
    edges += [
        Edge(model_id, parent, UNKNOWN_RELATION)
        for parent in dict.fromkeys(bare)
        if parent not in with_relation
    ]
    return [edge for edge in edges if edge.parent != model_id]


def _license(tags: list[str], card_data: Any) -> str | None:
    for tag in tags:
        if tag.startswith("license:"):
            return tag[len("license:") :] or None
    if isinstance(card_data, Mapping):
        value = card_data.get("license")
    else:
        value = getattr(card_data, "license", None)
    return value if isinstance(value, str) and value else None


def _gated(value: Any) -> str:
    if value in (None, False, "false", "False"):
        return "false"
    if value is True:
        return "true"
    return str(value)[:16]


def to_record(raw: Any) -> ModelRecord:
    """One ``ModelInfo`` (or raw Hub JSON dict) as a ``ModelRecord``."""
    model_id = str(_get(raw, "id") or _get(raw, "modelId", "modelId") or "")
    if "/" not in model_id:
        raise ValueError(f"not a namespaced model id: {model_id!r}")
    tags = [str(t) for t in (_get(raw, "tags") or ())]
    author = _get(raw, "author") or model_id.split("/", 1)[0]
    return ModelRecord(
        id=model_id,
        author=str(author),
        created_at=parse_datetime(_get(raw, "created_at", "createdAt")),
        pipeline_tag=_get(raw, "pipeline_tag") or None,
        library=_get(raw, "library_name") or None,
        license=_license(tags, _get(raw, "card_data", "cardData")),
        gated=_gated(_get(raw, "gated")),
        tags=tags,
        downloads=_int(_get(raw, "downloads")) or 0,
        downloads_all_time=_int(_get(raw, "downloads_all_time", "downloadsAllTime")),
        likes=_int(_get(raw, "likes")) or 0,
        trending_score=_float(_get(raw, "trending_score", "trendingScore")),
        children_count=children_total(_get(raw, "children_model_count", "childrenModelCount")),
        parents=parse_parents(model_id, tags, _get(raw, "base_models", "baseModels")),
    )


_COMPACT_JSON = json.JSONEncoder(separators=(",", ":")).encode
"""One encoder for every call: ``json.dumps`` with options builds a new one each time, which
was a tenth of the time a 200,000-model snapshot took to store."""
_encode_string = json.encoder.encode_basestring_ascii


def tags_json(tags: Sequence[str]) -> str:
    """``_COMPACT_JSON(tags)``, joined from each string's C-encoded form: 200,000 models'
    tag lists are encoded per snapshot."""
    try:
        return "[" + ",".join(map(_encode_string, tags)) + "]"
    except TypeError:
        return _COMPACT_JSON(tags)
