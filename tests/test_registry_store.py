"""Stored registry imports on each database: an import replaces an earlier one of the same org
(an upsert, whatever the case of its id), in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.registry import Org, load_registry
from bot.store.orgs import imported_orgs, save_orgs, with_imports

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_imports_are_upserted_and_layered_on_each_database(engine):
    first = [
        Org("newlab", "EU", "newlab", (), "atom.csv (ATOM registry)"),
        Org("stabilityai", "EU", "Stability AI", ("stability",), "https://huggingface.co/x"),
    ]
    save_orgs(engine, first, "atom.csv", NOW)
    save_orgs(
        engine,
        [Org("NewLab", "FR", "New Lab", ("新实验室",), "ours.csv")],
        "ours.csv",
        NOW + timedelta(days=1),
    )
    stored = imported_orgs(engine)
    assert [(org.org, org.country) for org in stored] == [("stabilityai", "EU"), ("NewLab", "FR")]
    assert stored[1].aliases == ("新实验室",)
    registry = with_imports(engine, load_registry())
    assert len(registry) == len(load_registry()) + 1
    assert registry.country_of("newlab") == "FR"
    assert registry.get("stabilityai").region == "eu"
    assert registry.aliases["新实验室"] == ("NewLab",)
