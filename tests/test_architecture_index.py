"""docs/architecture.md names every module of ``bot/`` and ``commands/``, so a new module
cannot go unmapped."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_module_is_named_in_the_architecture_page():
    page = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    index = page[page.index("## Every module") :]
    missing = []
    for module in sorted([*ROOT.glob("bot/*/*.py"), *ROOT.glob("commands/*.py")]):
        if module.name == "__init__.py":
            continue
        folder = module.parent.relative_to(ROOT).as_posix()
        section = index[index.index(f"**`{folder}/`**") :]
        section = section[: section.find("\n\n**", 1) if "\n\n**" in section else None]
        if f"`{module.name}`" not in section:
            missing.append(module.relative_to(ROOT).as_posix())
    assert not missing, f"not in docs/architecture.md's module index: {missing}"
