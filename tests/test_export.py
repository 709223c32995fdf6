"""``hubpulse export``: the share history as CSV, one row per snapshot and key; with
``--history`` one row per archived week and key, checked against pandas on the archive's
parquet files (``tests.share_history_world``); demo rows labelled; ``-o -`` to standard
output."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.cli.export import BOTH_COUNTS, COLUMNS, HISTORY_COLUMNS, ILLUSTRATIVE_LINE, THIRTY_DAY_ONLY
from bot.core.clock import FrozenClock
from bot.core.registry import load_registry
from bot.ingest.demo import load_demo
from bot.store.engine import make_engine, upgrade
from bot.store.writer import begin_snapshot, fail_snapshot
from tests.fixtures_cache import T0, T1, downloads, publisher_country_shares, specs, store_world
from tests.hubworld import small_registry
from tests.share_history_world import (
    ALL_TIME_FROM,
    DAYS,
    LABEL,
    NOW,
    Files,
    import_archive,
    write_archive,
)


def export(
    database_url: str, *args: str, columns: tuple[str, ...] = COLUMNS
) -> list[dict[str, str]]:
    result = CliRunner(env={"HUBPULSE_DATABASE_URL": database_url}).invoke(main, ["export", *args])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == ",".join(columns)
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


def test_live_rows_are_not_illustrative(sqlite_engine, sqlite_url):
    store_world(sqlite_engine)
    rows = export(sqlite_url)
    assert rows
    assert {r["illustrative"] for r in rows} == {"False"}


def test_output_dash_is_standard_output(sqlite_engine, sqlite_url, tmp_path, monkeypatch):
    store_world(sqlite_engine)
    monkeypatch.chdir(tmp_path)
    for args in (["-o", "-"], ["--history", "-o", "-"]):
        result = CliRunner(env={"HUBPULSE_DATABASE_URL": sqlite_url}).invoke(
            main, ["export", *args]
        )
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[0] in (",".join(COLUMNS), ",".join(HISTORY_COLUMNS))
        assert result.stderr == ""
    assert not (tmp_path / "-").exists()


# The live demo snapshots and the archived history, labelled


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    engine = make_engine(url)
    upgrade(engine)
    load_demo(engine, clock=FrozenClock(NOW))
    engine.dispose()
    return url


def labelled(database_url: str, *args: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of a CSV whose first line says the data is illustrative."""
    result = CliRunner(env={"HUBPULSE_DATABASE_URL": database_url}).invoke(main, ["export", *args])
    assert result.exit_code == 0, result.output
    first, rest = result.stdout.split("\n", 1)
    assert first == ILLUSTRATIVE_LINE
    assert rest.splitlines()[0] == ",".join(columns)
    return list(csv.DictReader(io.StringIO(rest)))


def test_demo_snapshots_are_labelled_illustrative(demo_url):
    rows = labelled(demo_url, columns=COLUMNS)
    assert rows
    assert {r["illustrative"] for r in rows} == {"True"}


def test_demo_history_is_labelled_illustrative(demo_url, tmp_path):
    rows = labelled(demo_url, "--history", "--target", "cn", columns=HISTORY_COLUMNS)
    assert len(rows) > 100  # two years of weeks, both attributions
    assert {r["illustrative"] for r in rows} == {"True"}
    assert {r["key"] for r in rows} == {"CN"}
    target = tmp_path / "history.csv"
    result = CliRunner(env={"HUBPULSE_DATABASE_URL": demo_url}).invoke(
        main, ["export", "--history", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert target.read_text().splitlines()[0] == ILLUSTRATIVE_LINE


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Files]:
    """The share-history world's 59 archived weeks, imported, and pandas over its files."""
    registry = small_registry()
    root = write_archive(tmp_path_factory.mktemp("archive"))
    url = f"sqlite:///{tmp_path_factory.mktemp('history') / 'hub.db'}"
    engine = make_engine(url)
    upgrade(engine)
    import_archive(engine, root, registry)
    engine.dispose()
    return url, Files(root, registry)


def test_history_of_a_country_equals_pandas_week_by_week(archived):
    url, files = archived
    rows = export(url, "--history", "--target", "China", columns=HISTORY_COLUMNS)
    assert [r["week"] for r in rows] == sorted(r["week"] for r in rows)
    assert {r["source"] for r in rows} == {LABEL}
    assert {r["illustrative"] for r in rows} == {"False"}
    by_week = {(r["week"], r["attribution"]): r for r in rows}
    assert len(by_week) == len(rows) == 2 * len(DAYS)
    for k, day in enumerate(DAYS):
        for attribution in ("publisher", "lineage"):
            row = by_week[day.isoformat(), attribution]
            assert (row["level"], row["key"], row["name"]) == ("country", "CN", "China")
            thirty = files.by_key(day, attribution, "country", "downloads")["CN"]
            assert int(row["downloads_30d"]) == round(thirty)
            assert float(row["share_30d_percent"]) == pytest.approx(
                100 * thirty / files.total(day, "downloads"), abs=1e-4
            )
            if k < ALL_TIME_FROM:
                assert row["method"] == THIRTY_DAY_ONLY
                assert row["downloads_all_time"] == row["share_all_time_percent"] == ""
            else:
                assert row["method"] == BOTH_COUNTS
                total = files.by_key(day, attribution, "country", "downloadsAllTime")["CN"]
                assert int(row["downloads_all_time"]) == round(total)
                assert float(row["share_all_time_percent"]) == pytest.approx(
                    100 * total / files.total(day, "downloadsAllTime"), abs=1e-4
                )


def test_history_of_an_org_over_a_period(archived):
    url, files = archived
    rows = export(
        url,
        "--history",
        "--target",
        "qwen",
        "--period",
        "2025-Q3",
        "--attribution",
        "lineage",
        columns=HISTORY_COLUMNS,
    )
    # As /share counts 2025-Q3: the latest week at or before 1 Jul to the latest before 1 Oct.
    weeks = files.span(date(2025, 7, 1), date(2025, 10, 1))
    assert [r["week"] for r in rows] == [day.isoformat() for day in weeks]
    assert {(r["attribution"], r["key"], r["name"]) for r in rows} == {
        ("lineage", "Qwen", "Alibaba Qwen")
    }
    last = rows[-1]
    family = files.by_key(weeks[-1], "lineage", "org", "downloadsAllTime")["Qwen"]
    assert int(last["downloads_all_time"]) == round(family)


def test_history_level_without_target_ranks_every_kept_key(archived):
    url, files = archived
    rows = export(
        url, "--history", "--level", "org", "--attribution", "publisher", columns=HISTORY_COLUMNS
    )
    latest = [r for r in rows if r["week"] == DAYS[-1].isoformat()]
    expected = files.by_key(DAYS[-1], "publisher", "org", "downloads")
    assert {r["key"] for r in latest} == set(expected.index)
    assert [int(r["rank_30d"]) for r in latest] == list(range(1, len(latest) + 1))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--history", "--target", "nobody-here"], "No org or country called 'nobody-here'"),
        (["--history", "--period", "2025-Q7"], "'2025-Q7' is not a period hubpulse knows"),
        (["--history", "--period", "2023"], "No two archived weeks cover 2023: the history has"),
        (["--target", "cn"], "--target and --period go with --history"),
    ],
)
def test_bad_history_options_get_one_line(archived, args, expected):
    url, _ = archived
    result = CliRunner(env={"HUBPULSE_DATABASE_URL": url}).invoke(main, ["export", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"hubpulse: {expected}")
    assert len(result.stderr.splitlines()) == 1
    assert result.stdout == ""
