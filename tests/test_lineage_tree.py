"""The model tree: roots, cycles and chains, on graphs whose answer is known by construction.

What hangs below each model (the descendants) is tested in ``test_descendants.py``.
"""

from bot.model.lineage import build_tree, walk_up

BASE = "deepseek-ai/DeepSeek-V3-Base"
COGITO = "deepcogito/cogito-v2.1"
GGUF = "someone/cogito-v2.1-GGUF"


def test_three_generations_resolve_to_the_root():
    tree = build_tree({COGITO: [BASE], GGUF: [COGITO]})
    assert tree.roots_of(GGUF) == (BASE,)
    assert tree.roots_of(BASE) == (BASE,)
    assert tree.cycles == []


def test_a_merge_has_both_roots():
    tree = build_tree({"m/merge": ["a/x", "b/y"], "a/x": ["a/base"]})
    assert tree.roots_of("m/merge") == ("a/base", "b/y")
    assert tree.cycles == []


def test_a_cycle_terminates_and_is_reported():
    tree = build_tree({"a/x": ["b/y"], "b/y": ["a/x"], "c/z": ["a/x"]})
    assert len(tree.cycles) == 1
    assert tree.cycles[0] in {("a/x", "b/y"), ("b/y", "a/x")}
    assert set(tree.roots) == {"a/x", "b/y", "c/z"}
    assert tree.roots_of("c/z") in {("a/x",), ("b/y",)}


def test_a_self_link_is_a_cycle_and_the_model_its_own_root():
    tree = build_tree({"a/x": ["a/x"]})
    assert tree.cycles == [("a/x", "a/x")]
    assert tree.roots_of("a/x") == ("a/x",)


def test_a_deep_chain_does_not_recurse():
    chain = {f"o/m{i}": [f"o/m{i - 1}"] for i in range(1, 5000)}
    tree = build_tree(chain)
    assert tree.roots_of("o/m4999") == ("o/m0",)
    assert tree.cycles == []


def test_walk_up_follows_first_parents_and_keeps_merge_partners():
    parents = {GGUF: [(COGITO, "quantized")], COGITO: [(BASE, "finetune"), ("x/other", "merge")]}
    chain = walk_up(GGUF, lambda m: parents.get(m, []))
    assert [(s.model, s.parent, s.relation) for s in chain.steps] == [
        (GGUF, COGITO, "quantized"),
        (COGITO, BASE, "finetune"),
    ]
    assert chain.steps[1].other_parents == ("x/other",)
    assert chain.root == BASE
    assert chain.cycle_at is None


def test_walk_up_stops_at_a_cycle_and_at_the_limit():
    looped = walk_up("a/x", lambda m: [("b/y", "finetune")] if m == "a/x" else [("a/x", "merge")])
    assert looped.cycle_at == "a/x"
    assert len(looped.steps) == 2
    endless = walk_up("n/0", lambda m: [(f"n/{int(m[2:]) + 1}", "finetune")], limit=10)
    assert endless.truncated
    assert len(endless.steps) == 10
