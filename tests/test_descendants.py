"""What is built on each model (``bot.model.descendants``), on graphs whose answer is known by
construction, then on a random graph against a brute-force walk down the children."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.model.columns import ModelColumns
from bot.model.descendants import ALL_RELATIONS, LineageStats, compute_lineage_stats
from bot.model.lineage import Tree, build_tree
from bot.model.records import Edge, ModelRecord, to_record
from tests.fakes.hub import make_record

BASE = "deepseek-ai/DeepSeek-V3-Base"
COGITO = "deepcogito/cogito-v2.1"
GGUF = "someone/cogito-v2.1-GGUF"


def model(model_id: str, downloads: int = 0, links: Sequence[tuple[str, str]] = ()) -> ModelRecord:
    """A record with ``links`` as its parent links, (parent, relation), first parent first."""
    return ModelRecord(
        id=model_id,
        author=model_id.split("/", 1)[0],
        created_at=None,
        pipeline_tag="text-generation",
        library="transformers",
        license=None,
        gated="false",
        tags=[],
        downloads=downloads,
        downloads_all_time=None,
        likes=0,
        trending_score=None,
        children_count=None,
        parents=[Edge(model_id, parent, relation) for parent, relation in links],
    )


def tree_of(columns: ModelColumns) -> Tree:
    """The tree as the store builds it: from the columns' links."""
    parents: dict[str, list[str]] = {}
    for child, parent, _ in columns.links:
        parents.setdefault(child, []).append(parent)
    return build_tree(parents)


def lineage(records: Iterable[ModelRecord]) -> LineageStats:
    columns = ModelColumns.of(records)
    return compute_lineage_stats(columns, tree_of(columns).cycles)


@dataclass(frozen=True)
class Row:
    descendants: int
    by_relation: dict[str, int]
    """Only the relations that count something."""
    downloads: int
    top: str


def rows(stats: LineageStats) -> dict[str, Row]:
    """The stats by model id; checks first that every column has one entry per model."""
    size = len(stats.model_id)
    assert set(stats.by_relation) == set(ALL_RELATIONS)
    columns = [stats.descendants, stats.descendant_downloads, stats.top_descendants]
    assert all(len(column) == size for column in (*columns, *stats.by_relation.values()))
    return {
        model_id: Row(
            stats.descendants[i],
            {r: counts[i] for r, counts in stats.by_relation.items() if counts[i]},
            stats.descendant_downloads[i],
            stats.top_descendants[i],
        )
        for i, model_id in enumerate(stats.model_id)
    }


def top(*entries: tuple[str, int]) -> str:
    return json.dumps([list(entry) for entry in entries], separators=(",", ":"))


def test_three_generations_count_at_every_ancestor() -> None:
    stats = lineage(
        [
            model(BASE, 1000),
            model(COGITO, 100, [(BASE, "finetune")]),
            model(GGUF, 7, [(COGITO, "quantized")]),
        ]
    )
    assert rows(stats) == {
        BASE: Row(2, {"finetune": 1, "quantized": 1}, 107, top((COGITO, 100), (GGUF, 7))),
        COGITO: Row(1, {"quantized": 1}, 7, top((GGUF, 7))),
    }


def test_a_merge_is_a_descendant_of_every_parent_and_every_root() -> None:
    stats = rows(
        lineage(
            [
                model("a/base", 9),
                model("a/x", 4, [("a/base", "finetune")]),
                model("m/merge", 3, [("a/x", "merge"), ("b/y", "merge")]),
            ]
        )
    )
    for ancestor in ("a/x", "a/base", "b/y"):
        assert "m/merge" in stats[ancestor].top
    assert stats["a/base"] == Row(
        2, {"finetune": 1, "merge": 1}, 7, top(("a/x", 4), ("m/merge", 3))
    )
    assert stats["b/y"] == Row(1, {"merge": 1}, 3, top(("m/merge", 3)))


def test_a_diamond_counts_the_merge_once() -> None:
    stats = rows(
        lineage(
            [
                model("x/base", 1),
                model("a/tune", 10, [("x/base", "finetune")]),
                model("b/tune", 20, [("x/base", "finetune")]),
                model("m/merge", 5, [("a/tune", "merge"), ("b/tune", "merge")]),
            ]
        )
    )
    assert stats == {
        "x/base": Row(
            3,
            {"finetune": 2, "merge": 1},
            35,
            top(("b/tune", 20), ("a/tune", 10), ("m/merge", 5)),
        ),
        "a/tune": Row(1, {"merge": 1}, 5, top(("m/merge", 5))),
        "b/tune": Row(1, {"merge": 1}, 5, top(("m/merge", 5))),
    }


def test_a_descendant_counts_under_its_own_first_link() -> None:
    stats = rows(
        lineage(
            [
                model("x/base", 1),
                model("y/other", 1),
                model("f/tune", 10, [("x/base", "finetune")]),
                model("g/tune-GGUF", 4, [("f/tune", "quantized")]),
                # First link an adapter, second a fine-tune: an adapter under both parents.
                model("l/lora", 2, [("x/base", "adapter"), ("y/other", "finetune")]),
            ]
        )
    )
    assert stats["x/base"].by_relation == {"finetune": 1, "quantized": 1, "adapter": 1}
    assert stats["x/base"].descendants == 3
    assert stats["y/other"].by_relation == {"adapter": 1}
    assert stats["f/tune"].by_relation == {"quantized": 1}


def test_an_unknown_relation_is_counted_as_unknown() -> None:
    # A bare ``base_model:<id>`` tag: relation unknown.
    raw = make_record("lab/bare", downloads=6)
    raw["tags"].append("base_model:x/base")
    stats = rows(lineage([model("x/base"), to_record(raw)]))
    assert stats == {"x/base": Row(1, {"unknown": 1}, 6, top(("lab/bare", 6)))}


def test_a_missing_parent_is_an_ancestor_with_stats() -> None:
    records = [
        to_record(make_record("a/tune", downloads=3, parents=["gone/base"])),
        to_record(
            make_record("b/tune-GGUF", downloads=4, parents=["a/tune"], relation="quantized")
        ),
    ]
    stats = rows(lineage(records))
    assert stats == {
        "gone/base": Row(
            2, {"finetune": 1, "quantized": 1}, 7, top(("b/tune-GGUF", 4), ("a/tune", 3))
        ),
        "a/tune": Row(1, {"quantized": 1}, 4, top(("b/tune-GGUF", 4))),
    }


def test_a_cycle_is_cut_at_the_back_edge() -> None:
    records = [
        model("a/x", 1, [("b/y", "finetune")]),
        model("b/y", 2, [("a/x", "merge")]),
        model("c/z", 4, [("a/x", "quantized")]),
    ]
    columns = ModelColumns.of(records)
    tree = tree_of(columns)
    # The walk starts at a/x, goes up to b/y and finds a/x on its path: b/y -> a/x is cut.
    assert tree.cycles == [("b/y", "a/x")]
    stats = rows(compute_lineage_stats(columns, tree.cycles))
    assert stats == {
        "b/y": Row(2, {"finetune": 1, "quantized": 1}, 5, top(("c/z", 4), ("a/x", 1))),
        "a/x": Row(1, {"quantized": 1}, 4, top(("c/z", 4))),
    }


def test_a_longer_cycle_with_branches_ends_and_no_model_descends_from_itself() -> None:
    records = [
        model("o/a", 1, [("o/c", "finetune")]),
        model("o/b", 1, [("o/a", "finetune")]),
        model("o/c", 1, [("o/b", "finetune")]),
        model("t/one", 1, [("o/b", "adapter")]),
        model("t/two", 1, [("t/one", "merge"), ("o/c", "merge")]),
    ]
    columns = ModelColumns.of(records)
    tree = tree_of(columns)
    assert len(tree.cycles) == 1
    stats = rows(compute_lineage_stats(columns, tree.cycles))
    for model_id, row in stats.items():
        assert f'"{model_id}"' not in row.top
    # Whatever link is cut, the three models of the cycle stay in one chain and both branches
    # hang below the cycle's top: it has the four other models.
    assert max(row.descendants for row in stats.values()) == 4


def test_a_self_link_is_not_followed() -> None:
    columns = ModelColumns.of([model("a/x", 5, [("a/x", "finetune"), ("b/y", "finetune")])])
    expected = {"b/y": Row(1, {"finetune": 1}, 5, top(("a/x", 5)))}
    assert rows(compute_lineage_stats(columns, tree_of(columns).cycles)) == expected
    assert rows(compute_lineage_stats(columns)) == expected  # even when not named a back edge


def test_the_top_five_break_ties_to_the_smaller_id() -> None:
    children = {"z/e": 5, "z/a": 5, "z/top": 9, "z/d": 5, "z/low": 1, "z/c": 5, "z/f": 5}
    children |= {"z/b": 5, "z/zero": 0}
    records = [model(child, n, [("x/base", "finetune")]) for child, n in children.items()]
    stats = rows(lineage([model("x/base"), *records]))
    assert stats["x/base"].descendants == 9
    assert stats["x/base"].downloads == 40
    assert stats["x/base"].top == top(("z/top", 9), ("z/a", 5), ("z/b", 5), ("z/c", 5), ("z/d", 5))


def test_top_descendants_is_compact_json() -> None:
    stats = lineage(
        [model("c/d", 12, [("x/base", "finetune")]), model("a/b", 3, [("x/base", "finetune")])]
    )
    assert stats.top_descendants == ['[["c/d",12],["a/b",3]]']
    unicode = lineage([model("ü/tune", 2, [("x/base", "finetune")])])
    assert unicode.top_descendants == ['[["\\u00fc/tune",2]]']
    assert json.loads(unicode.top_descendants[0]) == [["ü/tune", 2]]


def test_output_is_in_id_order() -> None:
    records = [
        model("z/child", 1, [("m/missing", "finetune")]),
        model("b/child", 1, [("y/parent", "finetune")]),
        model("y/parent", 1, [("A/upper", "finetune")]),
        model("A/upper", 1),
        model("k/child", 1, [("c/missing", "adapter")]),
    ]
    stats = lineage(records)
    assert stats.model_id == ["A/upper", "c/missing", "m/missing", "y/parent"]
    assert stats.descendants == [2, 1, 1, 1]
    assert stats.by_relation["adapter"] == [0, 1, 0, 0]


def test_no_links_no_stats() -> None:
    for records in ([], [model("a/x", 3), model("b/y", 4)]):
        stats = lineage(records)
        assert len(stats) == 0
        assert rows(stats) == {}


def test_a_deep_chain_of_300_generations() -> None:
    records = [
        model(f"o/m{i:03}", i, [(f"o/m{i - 1:03}", "finetune")] if i else []) for i in range(300)
    ]
    stats = rows(lineage(reversed(records)))
    assert len(stats) == 299
    for i in range(299):
        below = range(i + 1, 300)
        assert stats[f"o/m{i:03}"] == Row(
            len(below),
            {"finetune": len(below)},
            sum(below),
            top(*((f"o/m{n:03}", n) for n in sorted(below, reverse=True)[:5])),
        )


# A random graph against a brute-force walk down the children of every ancestor.


def random_crawl(seed: int, size: int = 2000) -> list[ModelRecord]:
    """Single parents, merges of two or three, missing parents, every relation, few distinct
    download counts (many ties), ids out of crawl order, and one cycle of three links."""
    rng = random.Random(seed)
    orgs = [f"org{n}" for n in range(40)] + ["Qwen", "meta-llama", "a", "Z"]
    ids = [f"{rng.choice(orgs)}/m{n}" for n in range(size)]
    missing = [f"gone{n}/base" for n in range(15)]
    links: list[list[tuple[str, str]]] = []
    for n, _ in enumerate(ids):
        if n == 0 or rng.random() < 0.2:
            links.append([])
            continue
        width = 1 if rng.random() < 0.8 else rng.choice((2, 3))
        parents = {
            rng.choice(missing) if rng.random() < 0.05 else ids[rng.randrange(n)]
            for _ in range(width)
        }
        links.append([(parent, rng.choice(ALL_RELATIONS)) for parent in sorted(parents)])
    # A cycle: the grandparent of a model with a crawled grandparent becomes its child.
    position = {model_id: n for n, model_id in enumerate(ids)}
    for n in range(size - 1, 0, -1):
        parent = links[n][0][0] if links[n] else None
        if parent in position and links[position[parent]]:
            grandparent = links[position[parent]][0][0]
            if grandparent in position:
                links[position[grandparent]].append((ids[n], "merge"))
                break
    records = [model(i, rng.randrange(30), parents) for i, parents in zip(ids, links, strict=True)]
    rng.shuffle(records)
    return records


def brute_force(records: list[ModelRecord], back_edges: list[tuple[str, str]]) -> dict[str, Row]:
    cut = set(back_edges)
    children: dict[str, set[str]] = {}
    for record in records:
        for edge in record.parents:
            if edge.child != edge.parent and (edge.child, edge.parent) not in cut:
                children.setdefault(edge.parent, set()).add(edge.child)
    by_id = {record.id: record for record in records}
    expected = {}
    for ancestor in children:
        found: set[str] = set()
        stack = [ancestor]
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        assert ancestor not in found, f"{ancestor} descends from itself: a cycle was not cut"
        relations = Counter(by_id[m].parents[0].relation for m in found)
        best = sorted(found, key=lambda m: (-by_id[m].downloads, m))[:5]
        expected[ancestor] = Row(
            len(found),
            dict(relations),
            sum(by_id[m].downloads for m in found),
            top(*((m, by_id[m].downloads) for m in best)),
        )
    return expected


def test_a_random_graph_matches_a_brute_force_walk() -> None:
    for seed in (7, 2026):
        records = random_crawl(seed)
        columns = ModelColumns.of(records)
        tree = tree_of(columns)
        assert len(tree.cycles) == 1
        stats = compute_lineage_stats(columns, tree.cycles)
        assert stats.model_id == sorted(stats.model_id)
        found = rows(stats)
        expected = brute_force(records, tree.cycles)
        assert any(ancestor.startswith("gone") for ancestor in expected)
        assert found.keys() == expected.keys()
        for ancestor, row in expected.items():
            assert found[ancestor] == row, ancestor


def test_small_graphs_full_of_cycles_match_a_brute_force_walk() -> None:
    """Parents drawn from anywhere, missing ones included: many cycles, self links, merges of a
    model with its own descendant. Cutting ``build_tree``'s back edges must leave no model
    descending from itself, and the stats must match the walk."""
    for seed in range(150):
        rng = random.Random(seed)
        ids = [f"o{rng.randrange(5)}/m{n}" for n in range(rng.randrange(2, 60))]
        records = [
            model(
                model_id,
                rng.randrange(5),
                [
                    (parent, rng.choice(ALL_RELATIONS))
                    for parent in dict.fromkeys(
                        rng.choice([*ids, "gone/x"]) for _ in range(rng.choice((0, 1, 1, 2, 3)))
                    )
                ],
            )
            for model_id in ids
        ]
        columns = ModelColumns.of(records)
        tree = tree_of(columns)
        expected = brute_force(records, tree.cycles)
        assert rows(compute_lineage_stats(columns, tree.cycles)) == expected, seed
