"""The bundled demo dataset: illustrative Hub models and their figures, week by week.

The data is **illustrative**: real org and model names, plausible but invented figures.

How it is made. ``bot/data/demo/catalogue.csv`` lists about 270 named models (DeepSeek, Qwen,
Llama, Cogito, Gemma, Phi, GLM, Kimi, MiniMax, Mistral, Falcon, embeddings, diffusion...) with
their parent and relation, creation date (a date, or ``-N`` for N days before the last demo
snapshot: the releases of the demo weeks), weekly downloads, weekly growth (default: by the
org's country, ``DEFAULT_TREND``) and how many third-party derivatives to grow under them. A
seeded RNG adds those derivatives: GGUF, MLX and 4-bit quantizations by the well-known
quantizers, fine-tunes, LoRA adapters and merges by invented community accounts, and
quantizations of the fine-tunes; about 4,600 models in all, 3,600 to 3,800 kept per snapshot.
Generating them in code keeps the repository small and the figures identical everywhere; only
the dates move, because the last snapshot is dated at load time so that the demo looks fresh.

``downloadsAllTime`` only grows, so week-over-week figures come from its difference;
``downloads`` is the rolling 30-day count. Chinese families grow and US ones slowly decline, so
over the eight weeks China's share passes the US share in both attributions: the published 2025
story, told with invented numbers. ``bot.ingest.demo`` loads it.
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

from bot.core.registry import Registry, load_registry

WEEKS = 8
FIRST_WEEK = -4
"""Weeks before the first snapshot, so that its rolling 30-day count is complete."""
SEED = 20250120
REFERENCE_DAY = date(2026, 2, 2)
"""Dataset day zero for dated catalogue rows: their age, and so their generated derivatives, is
counted from here rather than from the load time, so the figures never depend on the clock."""
DEFAULT_TREND = {"CN": 1.035, "US": 0.98}
OTHER_TREND = 0.995

GENERATED_AUTHORS = tuple(
    f"{first}-{second}"
    for first in ("amber", "birch", "cobalt", "ember", "fjord", "harbor", "indigo", "juniper")
    for second in ("labs", "ai", "ml", "nlp", "research")
)
"""Invented community accounts for the generated fine-tunes, adapters and merges."""


@dataclass(frozen=True)
class Quantizer:
    author: str
    suffix: str
    tags: tuple[str, ...]
    library: str | None
    weight: float


LLM_QUANTIZERS = (
    Quantizer("unsloth", "-GGUF", ("gguf",), None, 1.2),
    Quantizer("bartowski", "-GGUF", ("gguf",), None, 1.0),
    Quantizer("lmstudio-community", "-GGUF", ("gguf",), None, 0.6),
    Quantizer("unsloth", "-bnb-4bit", ("4-bit", "bitsandbytes"), "transformers", 0.6),
    Quantizer("mradermacher", "-GGUF", ("gguf",), None, 0.3),
    Quantizer("mradermacher", "-i1-GGUF", ("gguf",), None, 0.2),
    Quantizer("mlx-community", "-4bit", ("mlx", "4-bit"), "mlx", 0.3),
    Quantizer("mlx-community", "-8bit", ("mlx", "8-bit"), "mlx", 0.15),
    Quantizer("RedHatAI", "-FP8-dynamic", ("compressed-tensors", "8-bit"), "transformers", 0.3),
    Quantizer("QuantFactory", "-GGUF", ("gguf",), None, 0.15),
    Quantizer("MaziyarPanahi", "-GGUF", ("gguf",), None, 0.15),
    Quantizer("second-state", "-GGUF", ("gguf",), None, 0.1),
)
OTHER_QUANTIZERS = (
    Quantizer("Xenova", "", ("onnx",), "transformers.js", 0.5),
    Quantizer("onnx-community", "-ONNX", ("onnx",), "transformers.js", 0.3),
    Quantizer("city96", "-gguf", ("gguf",), "gguf", 0.4),
)
LLM_PIPELINES = frozenset({"text-generation", "image-text-to-text", "any-to-any"})
IMAGE_PIPELINES = frozenset({"text-to-image", "text-to-video"})
RELATION_MIX = {
    "llm": (("quantized", 0.45), ("finetune", 0.35), ("adapter", 0.12), ("merge", 0.08)),
    "image": (("adapter", 0.85), ("finetune", 0.1), ("quantized", 0.05)),
    "other": (("finetune", 0.85), ("quantized", 0.1), ("adapter", 0.05)),
}
RELATION_SCALE = {"quantized": 0.004, "finetune": 0.001, "adapter": 0.0005, "merge": 0.0003}
LLM_TOPICS = (
    "SFT", "DPO", "ORPO", "GRPO", "Reasoning", "Coder", "Math", "Instruct-v2", "abliterated",
    "Uncensored", "RP", "Medical", "Legal", "Finance", "Ko", "Ja", "Arabic", "Hindi", "German",
    "French", "Turkish", "Vietnamese", "Chat", "Distill", "Function-Calling", "Agent",
    "Long-Context", "Summarizer", "Translator", "Tool-Use",
)  # fmt: skip
OTHER_TOPICS = (
    "finetuned-ner", "sentiment", "squad", "emotion", "imdb", "legal", "medical", "ko", "ja",
    "arabic", "nli", "quora", "product-search", "faq", "news", "tweets", "reviews", "pubmed",
)  # fmt: skip
IMAGE_STYLES = (
    "watercolor", "anime", "pixel-art", "cinematic", "sketch", "3d-render", "vintage-photo",
    "product-shot", "logo", "isometric", "oil-painting", "neon", "comic", "claymation",
)  # fmt: skip


@dataclass
class DemoModel:
    """One model of the dataset; ``created`` is in days before the last demo snapshot."""

    id: str
    parents: tuple[str, ...]
    relation: str
    created: float
    created_at: datetime | None
    pipeline: str
    library: str | None
    license: str
    gated: str | bool
    weekly: float
    trend: float
    tags: tuple[str, ...] = ()
    prior: float = 0.0
    like_rate: float = 0.01
    noise: tuple[float, ...] = ()
    derived: int = 0

    @property
    def author(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[1]

    @property
    def kind(self) -> str:
        if self.pipeline in LLM_PIPELINES:
            return "llm"
        return "image" if self.pipeline in IMAGE_PIPELINES else "other"


@dataclass
class Figures:
    """A model's figures at each snapshot (index 0 is the first snapshot)."""

    downloads: list[int] = field(default_factory=list)
    all_time: list[int] = field(default_factory=list)
    likes: list[int] = field(default_factory=list)
    trending: list[int] = field(default_factory=list)


def _catalogue(registry: Registry) -> list[DemoModel]:
    text = resources.files("bot").joinpath("data/demo/catalogue.csv").read_text("utf-8")
    models = []
    for row in csv.DictReader(text.splitlines()):
        when = row["created"]
        if when.startswith("-"):
            created, created_at = float(when[1:]), None
        else:
            day = date.fromisoformat(when)
            created = float((REFERENCE_DAY - day).days)
            created_at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        country = registry.country_of(row["id"].split("/", 1)[0])
        models.append(
            DemoModel(
                id=row["id"],
                parents=tuple(p for p in row["parent"].split("|") if p),
                relation=row["relation"] or "finetune",
                created=created,
                created_at=created_at,
                pipeline=row["pipeline"],
                library=row["library"] or None,
                license=row["license"],
                gated=row["gated"] or False,
                weekly=float(row["weekly"]),
                trend=float(row["trend"] or DEFAULT_TREND.get(country, OTHER_TREND)),
                derived=int(row["derived"] or 0),
            )
        )
    known = {m.id for m in models}
    missing = {p for m in models for p in m.parents} - known
    if missing:
        raise ValueError(f"demo catalogue: parents not in the catalogue: {sorted(missing)}")
    return models


def _pick(rng: random.Random, choices: Sequence[tuple[str, float]]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _unique(model_id: str, taken: set[str]) -> str:
    candidate, version = model_id, 2
    while candidate.lower() in taken:
        candidate, version = f"{model_id}-v{version}", version + 1
    taken.add(candidate.lower())
    return candidate


def _child_created(rng: random.Random, parent: DemoModel) -> float:
    """Derivatives follow new releases within days, older models over months."""
    if parent.created <= WEEKS * 7 + 28:
        delay = rng.expovariate(1 / 5)
        return parent.created - delay if parent.created - delay > 0.05 else parent.created / 2
    if rng.random() < 0.1:
        return rng.uniform(0.05, WEEKS * 7)
    return WEEKS * 7 + rng.random() * min(parent.created - 1 - WEEKS * 7, 400)


def _derivative(
    rng: random.Random, parent: DemoModel, relation: str, siblings: list[DemoModel], taken: set[str]
) -> DemoModel:
    kind = parent.kind
    parents: tuple[str, ...] = (parent.id,)
    tags: tuple[str, ...] = ()
    library = parent.library
    quantizers = [
        q
        for q in (LLM_QUANTIZERS if kind == "llm" else OTHER_QUANTIZERS)
        if f"{q.author}/{parent.name}{q.suffix}".lower() not in taken
    ]
    if (relation == "merge" and not siblings) or (relation == "quantized" and not quantizers):
        relation = "finetune"
    scale = RELATION_SCALE[relation]
    if relation == "quantized":
        quantizer = rng.choices(quantizers, weights=[q.weight for q in quantizers])[0]
        model_id = f"{quantizer.author}/{parent.name}{quantizer.suffix}"
        tags, library, scale = quantizer.tags, quantizer.library, scale * quantizer.weight
    elif relation == "adapter":
        author = rng.choice(GENERATED_AUTHORS)
        if kind == "image":
            model_id = f"{author}/{parent.name.lower()}-{rng.choice(IMAGE_STYLES)}-lora"
            tags, library = ("lora", "diffusers"), "diffusers"
        else:
            model_id = f"{author}/{parent.name}-lora-{rng.choice(LLM_TOPICS).lower()}"
            tags, library = ("lora", "peft"), "peft"
    elif relation == "merge":
        other = rng.choice(siblings)
        parents = (parent.id, other.id)
        model_id = f"{rng.choice(GENERATED_AUTHORS)}/{parent.name}-{rng.choice(LLM_TOPICS)}-merge"
        tags = ("mergekit", "merge")
    else:
        topics = LLM_TOPICS if kind == "llm" else OTHER_TOPICS
        model_id = f"{rng.choice(GENERATED_AUTHORS)}/{parent.name}-{rng.choice(topics)}"
    hub_relation = relation
    if relation == "quantized" and "gguf" in tags and rng.random() < 0.05:
        hub_relation = "finetune"  # the Hub's inference mislabels some GGUF repos
    return DemoModel(
        id=_unique(model_id, taken),
        parents=parents,
        relation=hub_relation,
        created=_child_created(rng, parent),
        created_at=None,
        pipeline=parent.pipeline,
        library=library,
        license=parent.license if relation != "finetune" or rng.random() < 0.8 else "apache-2.0",
        gated=False,
        weekly=parent.weekly * scale * rng.lognormvariate(0, 1.4),
        trend=parent.trend * rng.uniform(0.98, 1.02),
        tags=tags,
    )


def build_models(registry: Registry | None = None, seed: int = SEED) -> list[DemoModel]:
    """The whole dataset, identical for a given seed: the catalogue plus its derivatives."""
    rng = random.Random(seed)
    models = _catalogue(registry or load_registry())
    taken = {m.id.lower() for m in models}
    generated: list[DemoModel] = []
    for parent in models:
        finetunes: list[DemoModel] = []
        for _ in range(parent.derived):
            relation = _pick(rng, RELATION_MIX[parent.kind])
            child = _derivative(rng, parent, relation, finetunes, taken)
            generated.append(child)
            if child.relation in ("finetune", "merge") and "lora" not in child.tags:
                finetunes.append(child)
        for finetune in finetunes:
            if parent.kind == "llm" and rng.random() < 0.3:
                for _ in range(rng.randint(1, 2)):
                    generated.append(_derivative(rng, finetune, "quantized", [], taken))
    everything = models + generated
    for model in everything:
        model.prior = model.weekly * rng.uniform(15, 90)
        model.like_rate = rng.uniform(0.002, 0.02)
        model.noise = tuple(rng.uniform(0.9, 1.1) for _ in range(WEEKS - FIRST_WEEK))
    return everything


# Download series
def _week_downloads(model: DemoModel, week: int) -> float:
    """Downloads in the week that ends at snapshot ``week`` (negative: before the first)."""
    ends_before_last = (WEEKS - 1 - week) * 7
    alive = min(max((model.created - ends_before_last) / 7, 0.0), 1.0)
    if alive == 0:
        return 0.0
    launch_week = WEEKS - math.ceil(model.created / 7)
    since = week if launch_week < FIRST_WEEK else week - launch_week
    return model.weekly * model.trend**since * model.noise[week - FIRST_WEEK] * alive


def figures_of(model: DemoModel) -> Figures:
    """The figures the Hub would show at each snapshot; ``all_time`` never decreases."""
    weekly = {w: _week_downloads(model, w) for w in range(FIRST_WEEK, WEEKS)}
    established = WEEKS - math.ceil(model.created / 7) < FIRST_WEEK
    total = model.prior if established else 0.0
    out = Figures()
    for week in range(FIRST_WEEK, WEEKS):
        before = total
        total += weekly[week]
        if week < 0:
            continue
        thirty_days = sum(weekly[w] for w in range(week - 3, week + 1)) + weekly[week - 4] * 2 / 7
        likes = int(model.like_rate * total**0.75)
        out.downloads.append(round(thirty_days))
        out.all_time.append(round(total))
        out.likes.append(likes)
        out.trending.append(likes - int(model.like_rate * before**0.75))
    return out


# Hub records
def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _tags(model: DemoModel) -> list[str]:
    tags = [t for t in (model.library, *model.tags, model.pipeline) if t]
    tags += [f"base_model:{p}" for p in model.parents]
    tags += [f"base_model:{model.relation}:{p}" for p in model.parents]
    return [*dict.fromkeys(tags), f"license:{model.license}", "region:us"]


def created_at(model: DemoModel, last: datetime) -> datetime:
    """The catalogue's real date where it gives one, else ``created`` days before ``last``."""
    return model.created_at or last - timedelta(days=model.created)


@dataclass
class Dataset:
    """The demo models with their figures and the parts of their Hub records that never change."""

    models: list[DemoModel]
    figures: list[Figures]
    static: list[dict[str, Any]]

    def hub_records(self, week: int) -> list[dict[str, Any]]:
        """The raw camelCase records (as ``/api/models`` returns them) of the models that exist
        at snapshot ``week``."""
        horizon = (WEEKS - 1 - week) * 7
        present = [i for i, m in enumerate(self.models) if m.created > horizon]
        children = Counter(p for i in present for p in self.models[i].parents)
        return [
            {
                **self.static[i],
                "downloads": self.figures[i].downloads[week],
                "downloadsAllTime": self.figures[i].all_time[week],
                "likes": self.figures[i].likes[week],
                "trendingScore": self.figures[i].trending[week],
                "childrenModelCount": children.get(self.models[i].id, 0),
            }
            for i in present
        ]


def build_dataset(last: datetime, registry: Registry | None = None) -> Dataset:
    """The dataset with its last snapshot at ``last``."""
    models = build_models(registry)
    static = [
        {
            "_id": f"demo{index:06x}",
            "id": model.id,
            "author": model.author,
            "createdAt": _iso(created_at(model, last)),
            "private": False,
            "pipeline_tag": model.pipeline,
            "library_name": model.library,
            "gated": model.gated,
            "tags": _tags(model),
        }
        for index, model in enumerate(models)
    ]
    return Dataset(models, [figures_of(m) for m in models], static)
