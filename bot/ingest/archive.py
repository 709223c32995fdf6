"""The public weekly archives of every Hub model's metadata: listing their weeks and reading the
few columns hubpulse needs, never a whole file.

The archive is a dataset repo laid out as ``models/<YYYY-MM-DD>/models.parquet``, one file a
week (``hfmlsoc/hub_weekly_snapshots`` by default, ``HUBPULSE_ARCHIVE_REPO``), or a directory
of the same layout for air-gapped installs. A week of 2026 is 1.3 to 1.6 GB, mostly heavy
columns (``cardData``, ``siblings``, ``config``, ``safetensors``, ``gguf``) that hubpulse never
reads: pyarrow fetches the footer, then only the chunks of the wanted columns, row group by row
group, each chunk one ranged GET through huggingface_hub's ``HfFileSystem`` (small blocks, no
read-ahead cache: fsspec's default read-ahead fetched a third of such a file).

Weeks differ: early ones lack ``downloadsAllTime`` and ``baseModels``, types drift (timestamps
as strings). A week is read with what it has and says what it lacked; a week without ``id`` or
``downloads`` is refused with one line naming the file. Transforming the columns is
``bot.model.hub_week``'s business.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Protocol

import httpx2
import pyarrow as pa
import pyarrow.parquet as pq
from huggingface_hub import HfFileSystem
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from bot.core.errors import RefreshError
from bot.ingest import hub

WEEK_PATH = re.compile(r"^models/(\d{4}-\d{2}-\d{2})/models\.parquet$")
WANTED = (
    "id",
    "createdAt",
    "downloads",
    "downloadsAllTime",
    "tags",
    "baseModels",
)
"""The columns hubpulse reads; every other column of a week is never fetched."""
REQUIRED = ("id", "downloads")
READ_ERRORS = (HfHubHTTPError, OSError, httpx2.HTTPError, pa.ArrowException)
"""What reading a week over the network can raise once huggingface_hub's retries are spent."""
READ_BLOCK = 64 * 1024
"""Bytes per ranged read: pyarrow asks for whole column chunks, so a small block only bounds
the last read's overshoot."""
BATCH_ROWS = 131_072


class ArchiveError(RefreshError):
    """An archive or one of its weeks cannot be read; the message names it in one line."""


@dataclass(frozen=True, order=True)
class Week:
    """One archived week: its label (the start of the interval it covers), its file, and the
    commit it was listed at (every read of the week is pinned to it)."""

    day: date
    path: str
    size: int | None = None
    revision: str | None = field(default=None, compare=False)


class Archive(Protocol):
    label: str
    """Where the weeks come from, as answers name it (``hfmlsoc/hub_weekly_snapshots``)."""

    def weeks(self) -> list[Week]:
        """Every week the archive holds, oldest first."""
        ...

    def open(self, week: Week) -> IO[bytes]:
        """The week's file, for random access."""
        ...


def _weeks(paths: Iterator[tuple[str, int | None]], revision: str | None = None) -> list[Week]:
    found = []
    for path, size in paths:
        matched = WEEK_PATH.match(path)
        if matched is None:
            continue
        try:
            day = date.fromisoformat(matched.group(1))
        except ValueError:
            continue
        found.append(Week(day, path, size, revision))
    return sorted(found)


class HubArchive:
    """A dataset repo on the Hub (``HF_ENDPOINT``), read through ``HfFileSystem``."""

    def __init__(self, repo: str, endpoint: str, token: str | None, revision: str = "main") -> None:
        self.label = repo
        self.repo = repo
        self.revision = revision
        self._api = hub.connect(endpoint, token)  # the session with timeouts, no telemetry
        # A file system of its own: huggingface_hub shares instances per endpoint and token,
        # with their listings, so a week replaced upstream would be read with its old size.
        self._fs = HfFileSystem(
            endpoint=self._api.endpoint, token=token or False, skip_instance_cache=True
        )

    def weeks(self) -> list[Week]:
        """The weeks at the revision's current commit (resolved once, so that a commit landing
        upstream during a backfill never mixes two versions of a file)."""
        try:
            commit = self._api.repo_info(self.repo, repo_type="dataset", revision=self.revision).sha
            tree = self._api.list_repo_tree(
                self.repo,
                path_in_repo="models",
                recursive=True,
                repo_type="dataset",
                revision=commit or self.revision,
            )
            return _weeks(((item.path, getattr(item, "size", None)) for item in tree), commit)
        except RepositoryNotFoundError:
            raise self.gone() from None
        except READ_ERRORS as exc:
            raise ArchiveError(f"cannot list the archive {self.repo}: {_first_line(exc)}") from None

    def gone(self) -> ArchiveError:
        return ArchiveError(
            f"the archive {self.repo} is not on {self._api.endpoint} (taken down, renamed, or "
            "private): set HUBPULSE_ARCHIVE_REPO to a mirror or a local directory"
        )

    def open(self, week: Week) -> IO[bytes]:
        path = f"datasets/{self.repo}@{week.revision or self.revision}/{week.path}"
        try:
            file: IO[bytes] = self._fs.open(
                path, "rb", block_size=READ_BLOCK, cache_type="none", size=week.size
            )
        except RepositoryNotFoundError:
            raise self.gone() from None
        return file


class LocalArchive:
    """A directory with the archive's layout (an air-gapped mirror)."""

    def __init__(self, directory: Path) -> None:
        self.label = str(directory)
        self.directory = directory

    def weeks(self) -> list[Week]:
        files = self.directory.glob("models/*/models.parquet")
        return _weeks(
            (path.relative_to(self.directory).as_posix(), path.stat().st_size) for path in files
        )

    def open(self, week: Week) -> IO[bytes]:
        return (self.directory / week.path).open("rb")


def archive_from(source: str, endpoint: str, token: str | None) -> Archive:
    """A local directory when ``source`` names one, else a dataset repo id on the Hub."""
    directory = Path(source).expanduser()
    if directory.is_dir():
        return LocalArchive(directory)
    if source.count("/") != 1 or source.startswith(("/", ".")):
        raise ArchiveError(
            f"{source!r} is neither a directory nor a dataset repo id like owner/name"
        )
    return HubArchive(source, endpoint, token)


@dataclass(frozen=True)
class WeekFile:
    """What one week's file holds: its rows, and which of the wanted columns it lacks."""

    week: Week
    rows: int
    columns: tuple[str, ...]
    missing: tuple[str, ...]


class _Counting:
    """A read-only file that counts the bytes read through it (what a week cost)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.bytes_read += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return self.raw.closed

    def close(self) -> None:
        self.raw.close()


class OpenWeek:
    """A week's file opened for reading: what it holds, its batches, what it cost so far."""

    def __init__(self, described: WeekFile, parquet: pq.ParquetFile, counting: _Counting) -> None:
        self.file = described
        self._parquet = parquet
        self._counting = counting

    @property
    def bytes_read(self) -> int:
        return self._counting.bytes_read

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The wanted columns, batch by batch: memory holds ``BATCH_ROWS`` rows of them at a time
        (and the row groups they come from), never the file."""
        path = self.file.week.path
        try:
            yield from self._parquet.iter_batches(
                batch_size=BATCH_ROWS, columns=list(self.file.columns)
            )
        except RepositoryNotFoundError:
            raise _gone_midway(path) from None
        except READ_ERRORS as exc:
            raise ArchiveError(f"reading {path} failed midway: {_first_line(exc)}") from None


@contextmanager
def read_week(archive: Archive, week: Week) -> Iterator[OpenWeek]:
    """Open a week, check it has the required columns, and note which wanted ones it lacks."""
    try:
        raw = archive.open(week)
    except READ_ERRORS as exc:
        raise ArchiveError(f"cannot open {week.path}: {_first_line(exc)}") from None
    counting = _Counting(raw)
    try:
        try:
            parquet = pq.ParquetFile(pa.PythonFile(counting, mode="r"))
        except RepositoryNotFoundError:
            raise _gone_midway(week.path) from None
        except READ_ERRORS as exc:
            raise ArchiveError(
                f"{week.path} is not a readable parquet file: {_first_line(exc)}"
            ) from None
        names = set(parquet.schema_arrow.names)
        lacking = [name for name in REQUIRED if name not in names]
        if lacking:
            raise ArchiveError(
                f"{week.path} has no {' or '.join(repr(n) for n in lacking)} column: "
                "not a week of model metadata"
            )
        columns = tuple(name for name in WANTED if name in names)
        missing = tuple(name for name in WANTED if name not in names)
        described = WeekFile(week, parquet.metadata.num_rows, columns, missing)
        yield OpenWeek(described, parquet, counting)
    finally:
        counting.close()


def _gone_midway(path: str) -> ArchiveError:
    return ArchiveError(
        f"reading {path} failed: repository not found (the archive was taken down or renamed)"
    )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__
