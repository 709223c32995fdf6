"""``hubpulse export``: the share history as CSV, one row per snapshot and key."""

from __future__ import annotations

import csv
import io
from collections import defaultdict

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.cli.export import COLUMNS
from bot.core.registry import load_registry
from bot.store.writer import begin_snapshot, fail_snapshot
from tests.fixtures_cache import T0, T1, downloads, publisher_country_shares, specs, store_world


def export(database_url: str, *args: str) -> list[dict[str, str]]:
    result = CliRunner(env={"HUBPULSE_DATABASE_URL": database_url}).invoke(main, ["export", *args])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == ",".join(COLUMNS)
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_country_shares_by_publisher_match_the_known_answer(engine, database_url):
    store_world(engine)
    rows = export(database_url, "--attribution", "publisher")
    assert {r["taken_at"] for r in rows} == {f"{T0:%Y-%m-%d %H:%M}", f"{T1:%Y-%m-%d %H:%M}"}
    latest = [r for r in rows if r["taken_at"] == f"{T1:%Y-%m-%d %H:%M}"]
    assert {r["attribution"] for r in latest} == {"publisher"}
    assert {r["level"] for r in latest} == {"country"}
    expected = publisher_country_shares(1)
    assert {r["key"] for r in latest} == set(expected)
    for row in latest:
        assert float(row["share_percent"]) == pytest.approx(expected[row["key"]] * 100, abs=1e-4)
        assert row["country"] == row["key"]
    china = next(r for r in latest if r["key"] == "CN")
    assert china["name"] == "China"
    assert [int(r["rank"]) for r in latest] == list(range(1, len(latest) + 1))
    assert sum(int(r["downloads"]) for r in latest) == sum(
        downloads(s, 1) for s in specs(1) if s.in_top
    )


def test_both_attributions_by_org_with_names_and_countries(engine, database_url):
    store_world(engine)
    rows = export(database_url, "--level", "org")
    assert [r["taken_at"] for r in rows] == sorted(r["taken_at"] for r in rows)
    assert {r["attribution"] for r in rows} == {"publisher", "lineage"}
    by_key = {(r["snapshot_id"], r["attribution"], r["key"]): r for r in rows}
    latest = str(max(int(r["snapshot_id"]) for r in rows))
    qwen = by_key[latest, "publisher", "Qwen"]
    registry = load_registry()
    assert qwen["name"] == registry.get("Qwen").display_name
    assert qwen["country"] == "CN"
    assert qwen["level"] == "org"
    unregistered = by_key[latest, "publisher", "someone"]
    assert (unregistered["name"], unregistered["country"]) == ("someone", "ZZ")
    totals: defaultdict[tuple[str, str], float] = defaultdict(float)
    for row in rows:
        totals[row["snapshot_id"], row["attribution"]] += float(row["share_percent"])
    assert all(total == pytest.approx(100, abs=1e-2) for total in totals.values())


def test_only_complete_snapshots_are_exported(engine, database_url):
    store_world(engine, weeks=1)
    fail_snapshot(engine, begin_snapshot(engine, T1, "test", 100), "boom", T1)
    rows = export(database_url)
    assert {r["taken_at"] for r in rows} == {f"{T1:%Y-%m-%d %H:%M}"}


def test_output_to_a_file(sqlite_engine, sqlite_url, tmp_path):
    store_world(sqlite_engine)
    target = tmp_path / "shares.csv"
    result = CliRunner(env={"HUBPULSE_DATABASE_URL": sqlite_url}).invoke(
        main, ["export", "--attribution", "lineage", "-o", str(target)]
    )
    assert result.exit_code == 0
    rows = list(csv.DictReader(target.open()))
    assert result.stderr == f"Wrote {len(rows)} rows from 2 snapshots to {target}.\n"
    assert {r["attribution"] for r in rows} == {"lineage"}


def test_an_empty_store_exports_the_header_only(sqlite_url):
    assert export(sqlite_url) == []


def test_a_bad_choice_is_a_usage_error(sqlite_url):
    result = CliRunner(env={"HUBPULSE_DATABASE_URL": sqlite_url}).invoke(
        main, ["export", "--level", "family"]
    )
    assert result.exit_code == 2
