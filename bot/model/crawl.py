"""What one refresh saw of the Hub, before it is written."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.model.records import ModelRecord


@dataclass
class Crawl:
    """Everything one refresh saw: the records by id and why each was kept."""

    records: dict[str, ModelRecord]
    top_ids: list[str]
    org_ids: set[str] = field(default_factory=set)
    ancestor_ids: set[str] = field(default_factory=set)
    missing_parents: set[str] = field(default_factory=set)
    orgs_crawled: int = 0
