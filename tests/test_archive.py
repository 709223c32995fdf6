"""bot.ingest.archive against the fake Hub's dataset repos (real huggingface_hub, real ranged
reads) and over a local directory: listing weeks, reading only the wanted columns, schema
variants, and the failures an archive has (a week refused, a repo taken down, a read that dies
midway)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub.utils import _http

from bot.ingest.archive import (
    WANTED,
    ArchiveError,
    HubArchive,
    LocalArchive,
    Week,
    read_week,
)
from tests.fakes.hub import FakeHub

REPO = "hfmlsoc/hub_weekly_snapshots"
DAYS = ("2024-07-24", "2024-07-31", "2024-08-07")
RESOLVE = f"/datasets/{REPO}/resolve/"


def week_path(day: str) -> str:
    return f"models/{day}/models.parquet"


def week_table(
    rows: int = 600,
    *,
    heavy: int = 0,
    all_time: bool = True,
    base_models: bool = True,
    created_as: str = "string",
    drop: tuple[str, ...] = (),
) -> pa.Table:
    """A week as the archive holds it: the columns hubpulse reads, and ``heavy`` bytes of random
    (incompressible) text per row in ``siblings`` and ``cardData``, which it never reads."""
    ids = [f"{('Qwen', 'meta-llama', 'someone')[i % 3]}/m{i}" for i in range(rows)]
    created = [datetime(2024, 1, 1 + i % 28, 12, tzinfo=UTC) for i in range(rows)]
    columns: dict[str, Any] = {
        "id": ids,
        "author": [i.partition("/")[0] for i in ids],
        "createdAt": (
            pa.array(created, pa.timestamp("ms", tz="UTC"))
            if created_as == "timestamp"
            else [c.strftime("%Y-%m-%dT%H:%M:%S.000Z") for c in created]
        ),
        "downloads": [i * 10 for i in range(rows)],
        "likes": [i % 7 for i in range(rows)],
        "tags": [[f"base_model:finetune:Qwen/m{i % 9}"] if i % 4 == 1 else [] for i in range(rows)],
        "pipeline_tag": ["text-generation"] * rows,
        "library_name": ["transformers"] * rows,
        "siblings": [os.urandom(heavy // 4).hex() for _ in range(rows)],
        "cardData": [os.urandom(heavy // 4).hex() for _ in range(rows)],
    }
    if all_time:
        columns["downloadsAllTime"] = [i * 100 for i in range(rows)]
    if base_models:
        columns["baseModels"] = [
            {"relation": "finetune", "models": [{"id": f"Qwen/m{i % 9}"}]} if i % 4 == 1 else None
            for i in range(rows)
        ]
    return pa.table({k: v for k, v in columns.items() if k not in drop})


def parquet_bytes(table: pa.Table, row_group_size: int = 200) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=row_group_size)
    return buffer.getvalue()


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub(tree_page_size=4) as fake:  # small pages: the listing follows Link headers
        yield fake


@pytest.fixture
def archive(hub: FakeHub) -> HubArchive:
    return HubArchive(REPO, hub.url, None)


@pytest.fixture
def fast_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """huggingface_hub's backoff sleeps, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(_http, "time", SimpleNamespace(sleep=recorded.append))
    return recorded


def read_all(archive: HubArchive | LocalArchive, week: Week) -> tuple[pa.Table, Any]:
    with read_week(archive, week) as opened:
        table = pa.Table.from_batches(list(opened.batches()))
        return table, opened


def test_weeks_lists_only_week_files_oldest_first(hub: FakeHub, archive: HubArchive) -> None:
    weeks = {day: parquet_bytes(week_table(20)) for day in reversed(DAYS)}
    hub.put_dataset_files(REPO, {week_path(day): data for day, data in weeks.items()})
    hub.put_dataset_files(
        REPO,
        {
            "README.md": b"# Weekly snapshots",
            "datasets/2024-07-24/datasets.parquet": b"PAR1",
            "spaces/2024-07-24/spaces.parquet": b"PAR1",
            "models/2024-07-24/extra.parquet": b"PAR1",
            "models/latest/models.parquet": b"PAR1",
            "models/2024-02-30/models.parquet": b"PAR1",  # not a date
            "models/2024-08-14/models.parquet.tmp": b"PAR1",
        },
    )
    assert archive.weeks() == [
        Week(date.fromisoformat(day), week_path(day), len(weeks[day])) for day in DAYS
    ]
    listing = [r for r in hub.requests if "/tree/" in r.path]
    # Listed at the commit the revision pointed to: every read of a week is pinned to it.
    head = hub.dataset_head(REPO)
    assert all(r.path == f"/api/datasets/{REPO}/tree/{head}/models" for r in listing)
    assert len(listing) > 1  # paginated
    assert listing[0].query["recursive"] == ["true"]


def test_a_week_costs_a_small_fraction_of_its_bytes(hub: FakeHub, archive: HubArchive) -> None:
    table = week_table(3000, heavy=3000)
    data = parquet_bytes(table, row_group_size=500)  # 6 row groups, about 9 MB
    hub.put_dataset_file(REPO, week_path(DAYS[0]), data)
    (week,) = archive.weeks()
    hub.reset_requests()

    read, opened = read_all(archive, week)

    assert opened.file.rows == 3000
    assert opened.file.columns == WANTED
    assert opened.file.missing == ()
    assert read.column_names == list(WANTED)
    assert read.equals(table.select(list(WANTED)))
    served = hub.bytes_served(REPO, week.path)
    assert served == opened.bytes_read
    assert served < 0.15 * len(data), f"{served / len(data):.1%} of the file was fetched"
    reads = [r for r in hub.requests if r.path.startswith("/cdn-lfs/")]
    assert reads
    assert all(r.headers.get("range", "").startswith("bytes=") for r in reads)
    assert all(r.status == 206 for r in reads)


@pytest.mark.parametrize("created_as", ["string", "timestamp"])
def test_a_week_lacking_columns_is_read_and_says_so(
    hub: FakeHub, archive: HubArchive, created_as: str
) -> None:
    table = week_table(300, all_time=False, base_models=False, created_as=created_as)
    hub.put_dataset_file(REPO, week_path(DAYS[0]), parquet_bytes(table))
    (week,) = archive.weeks()

    read, opened = read_all(archive, week)

    assert opened.file.missing == ("downloadsAllTime", "baseModels")
    assert "downloadsAllTime" not in read.column_names
    assert read.num_rows == 300
    expected = pa.string() if created_as == "string" else pa.timestamp("ms", tz="UTC")
    assert read.schema.field("createdAt").type == expected
    assert read.column("downloads").to_pylist() == table.column("downloads").to_pylist()


@pytest.mark.parametrize("column", ["id", "downloads"])
def test_a_week_without_a_required_column_is_refused(
    hub: FakeHub, archive: HubArchive, column: str
) -> None:
    path = week_path(DAYS[1])
    hub.put_dataset_file(REPO, path, parquet_bytes(week_table(50, drop=(column,))))
    (week,) = archive.weeks()
    with pytest.raises(ArchiveError, match=f"{path} has no '{column}' column") as excinfo:
        read_all(archive, week)
    assert "\n" not in str(excinfo.value)


def test_a_file_that_is_not_parquet_is_refused(hub: FakeHub, archive: HubArchive) -> None:
    path = week_path(DAYS[0])
    hub.put_dataset_file(REPO, path, b"<html>not parquet</html>")
    (week,) = archive.weeks()
    with pytest.raises(ArchiveError, match=f"{path} is not a readable parquet file"):
        read_all(archive, week)


def test_an_archive_taken_down_says_so(hub: FakeHub, archive: HubArchive) -> None:
    with pytest.raises(ArchiveError, match=f"{REPO} is not on {hub.url} \\(taken down"):
        archive.weeks()

    hub.put_dataset_file(REPO, week_path(DAYS[0]), parquet_bytes(week_table(50)))
    (week,) = archive.weeks()
    hub.remove_dataset(REPO)
    with pytest.raises(ArchiveError, match="repository not found"):
        read_all(archive, week)
    with pytest.raises(ArchiveError, match="taken down"):
        archive.weeks()


def test_an_archive_taken_down_while_a_week_is_read_says_so(
    hub: FakeHub, archive: HubArchive
) -> None:
    hub.put_dataset_file(REPO, week_path(DAYS[0]), parquet_bytes(week_table(500, heavy=1000)))
    (week,) = archive.weeks()
    with read_week(archive, week) as opened:  # the footer is read
        hub.remove_dataset(REPO)
        with pytest.raises(ArchiveError, match=r"(?i)repository not found|taken down"):
            list(opened.batches())


def test_a_listing_that_keeps_failing_is_an_archive_error(
    hub: FakeHub, archive: HubArchive, fast_sleeps: list[float]
) -> None:
    hub.put_dataset_file(REPO, week_path(DAYS[0]), parquet_bytes(week_table(50)))
    hub.fail(status=503, path_prefix=f"/api/datasets/{REPO}/tree/", times=6)
    with pytest.raises(ArchiveError, match=f"cannot list the archive {REPO}: .*503"):
        archive.weeks()
    assert fast_sleeps == [1, 2, 4, 8, 8]


def test_a_transient_error_midway_is_retried(
    hub: FakeHub, archive: HubArchive, fast_sleeps: list[float]
) -> None:
    table = week_table(1000, heavy=1000)
    hub.put_dataset_file(REPO, week_path(DAYS[0]), parquet_bytes(table))
    (week,) = archive.weeks()
    hub.fail(status=500, path_prefix=RESOLVE, after=2)
    hub.drop_connection(path_prefix=RESOLVE, after=2)

    read, _ = read_all(archive, week)

    assert read.equals(table.select(list(WANTED)))
    assert fast_sleeps == [1, 2]


@pytest.mark.parametrize(
    "fault",
    [
        "status 500",
        "dropped connection",
    ],
)
def test_a_week_that_fails_midway_is_an_archive_error(
    hub: FakeHub, archive: HubArchive, fast_sleeps: list[float], fault: str
) -> None:
    path = week_path(DAYS[0])
    hub.put_dataset_file(REPO, path, parquet_bytes(week_table(1000, heavy=1000)))
    (week,) = archive.weeks()
    # The footer, the first row group, then every retry of the next read fails.
    if fault == "status 500":
        hub.fail(status=500, path_prefix=RESOLVE, after=3, times=6)
    else:
        hub.drop_connection(path_prefix=RESOLVE, after=3, times=6)

    with pytest.raises(ArchiveError, match=f"reading {path} failed midway") as excinfo:
        read_all(archive, week)
    assert "\n" not in str(excinfo.value)
    assert hub.pending_faults == 0


def test_a_week_replaced_upstream_is_read_afresh(hub: FakeHub) -> None:
    path = week_path(DAYS[0])
    hub.put_dataset_file(REPO, path, parquet_bytes(week_table(100)))
    first = HubArchive(REPO, hub.url, None)
    assert read_all(first, first.weeks()[0])[0].num_rows == 100

    hub.put_dataset_file(REPO, path, parquet_bytes(week_table(700)))
    later = HubArchive(REPO, hub.url, None)
    assert read_all(later, later.weeks()[0])[0].num_rows == 700


def test_a_week_is_read_at_the_commit_it_was_listed_at(hub: FakeHub, archive: HubArchive) -> None:
    path = week_path(DAYS[0])
    hub.put_dataset_file(REPO, path, parquet_bytes(week_table(100)))
    (listed,) = archive.weeks()
    hub.put_dataset_file(REPO, path, parquet_bytes(week_table(700)))  # a commit lands meanwhile
    assert read_all(archive, listed)[0].num_rows == 100


def test_a_local_archive_reads_the_same_weeks_and_rows(
    hub: FakeHub, archive: HubArchive, tmp_path: Path
) -> None:
    files = {
        week_path(DAYS[0]): parquet_bytes(week_table(400, all_time=False)),
        week_path(DAYS[1]): parquet_bytes(week_table(500, created_as="timestamp")),
        "models/2024-07-31/notes.txt": b"ignored",
        "README.md": b"ignored",
    }
    hub.put_dataset_files(REPO, files)
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    local = LocalArchive(tmp_path)

    assert local.weeks() == archive.weeks()
    for week in local.weeks():
        local_rows, local_week = read_all(local, week)
        hub_rows, hub_week = read_all(archive, week)
        assert local_rows.equals(hub_rows)
        assert local_week.file == hub_week.file
        assert local_week.bytes_read == hub_week.bytes_read
