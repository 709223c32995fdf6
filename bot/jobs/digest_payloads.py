"""Digest messages built once per snapshot, shared by every channel's digest job.

On Monday morning hundreds of digest jobs run within minutes, each for one channel; they all
read the same snapshot, so its content (queries, ranking) and rendering are done once per
(snapshot, baseline, lateness) and kept until a newer snapshot arrives.
"""

from __future__ import annotations

import threading
from typing import Any

from bot.channels import digest
from bot.store.reader import Reader, Snapshot


class DigestPayloads:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self._lock = threading.Lock()
        self._snapshot_id: int | None = None
        self._baselines: dict[int | None, Snapshot | None] = {}
        self._contents: dict[tuple[int | None, bool], digest.DigestContent] = {}
        self._payloads: dict[tuple[Any, ...], dict[str, Any]] = {}

    def payload(
        self, snapshot: Snapshot, last_snapshot_id: int | None, late_due: str | None
    ) -> dict[str, Any]:
        """The digest of ``snapshot`` for a channel whose last digest reported
        ``last_snapshot_id`` (None: never), late or not."""
        with self._lock:
            if snapshot.id != self._snapshot_id:
                self._snapshot_id = snapshot.id
                self._baselines.clear()
                self._contents.clear()
                self._payloads.clear()
            if last_snapshot_id == snapshot.id:
                key: tuple[Any, ...] = ("no news", late_due)
                if key not in self._payloads:
                    self._payloads[key] = digest.no_news_payload(snapshot, late_due=late_due)
                return self._payloads[key]
            if last_snapshot_id not in self._baselines:
                self._baselines[last_snapshot_id] = digest.baseline_for(
                    self.reader, snapshot, last_snapshot_id
                )
            baseline = self._baselines[last_snapshot_id]
            # A channel's first digest also reports the crossovers of the last few weeks.
            content_key = (baseline.id if baseline else None, last_snapshot_id is None)
            if content_key not in self._contents:
                self._contents[content_key] = digest.build(
                    self.reader, snapshot, baseline, first=last_snapshot_id is None
                )
            key = (*content_key, late_due)
            if key not in self._payloads:
                self._payloads[key] = digest.payload(self._contents[content_key], late_due=late_due)
            return self._payloads[key]
