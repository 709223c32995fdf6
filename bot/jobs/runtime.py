"""What scheduled jobs run against: the database, the cache, the clock, Slack and the Hub.

APScheduler's SQLAlchemy job store pickles each job as a reference to a module-level function
plus plain arguments (team and channel ids), so a job cannot carry live objects: the
scheduler's executor hands the job functions (``bot.jobs.tasks``) the ``Runtime`` it was built
with, and the CLI passes its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from bot.answers.message import Chart
from bot.channels.digest import chart
from bot.core.clock import Clock, SystemClock
from bot.core.settings import Settings
from bot.delivery.poster import Poster, poster_from_settings
from bot.delivery.sender import Pacer, Sender
from bot.ingest import hub
from bot.ingest.archive import archive_from
from bot.ingest.backfill import BackfillReport, backfill
from bot.ingest.org_source import configured_registry, effective_registry
from bot.ingest.refresh import refresh as take_snapshot
from bot.jobs.digest_payloads import DigestPayloads
from bot.store.reader import Reader

CHARTS_KEPT = 4


@dataclass
class Runtime:
    engine: Engine
    reader: Reader
    clock: Clock
    poster: Poster
    settings: Settings
    refresh: Callable[[], object] | None = None
    """Takes one snapshot of the Hub (raises ``RefreshError`` when it cannot)."""
    import_archive: Callable[[], BackfillReport] | None = None
    """Imports the archive's weeks not imported yet (raises ``ArchiveError`` when the archive
    cannot be listed)."""
    sleep: Callable[[float], None] = time.sleep
    """How posting waits between two messages to one channel."""
    digests: DigestPayloads = field(init=False)
    _charts: dict[int, Chart | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.digests = DigestPayloads(self.reader)

    def sender(self) -> Sender:
        """A sender for one pass over the deliveries (its pacer spaces posts per channel)."""
        return Sender(
            self.engine, self.poster, self.clock, charts=self.chart, pacer=Pacer(sleep=self.sleep)
        )

    def chart(self, snapshot_id: int) -> Chart | None:
        """The digest chart of a snapshot, drawn once however many channels get it."""
        with self._lock:
            if snapshot_id not in self._charts:
                while len(self._charts) >= CHARTS_KEPT:
                    self._charts.pop(next(iter(self._charts)))
                self._charts[snapshot_id] = chart(self.reader, snapshot_id)
            return self._charts[snapshot_id]


def from_settings(settings: Settings, engine: Engine) -> Runtime:
    """The production runtime: Slack from the settings, the real Hub, the system clock."""
    clock = SystemClock()
    registry = configured_registry(settings.orgs_file)  # refreshes layer the stored imports
    reader = Reader(engine, registry, clock, follow_imports=True)

    def refresh() -> object:
        api = hub.connect(settings.hf_endpoint, settings.hf_token)
        return take_snapshot(engine, api, registry, settings.top_n, clock=clock)

    def import_archive() -> BackfillReport:
        archive = archive_from(settings.archive_repo, settings.hf_endpoint, settings.hf_token)
        return backfill(
            engine, archive, effective_registry(engine, settings.orgs_file), clock=clock
        )

    return Runtime(
        engine=engine,
        reader=reader,
        clock=clock,
        poster=poster_from_settings(settings, engine),
        settings=settings,
        refresh=refresh,
        import_archive=import_archive,
    )
