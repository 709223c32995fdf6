"""The Slack requests already seen, so that a replayed one is recognised by every replica."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, String, Table

from bot.store.schema import metadata

request_replays = Table(
    "request_replays",
    metadata,
    # sha256 (hex) of the request's timestamp and signature: the signature covers the body.
    Column("key", String(64), primary_key=True),
    # When the request's timestamp leaves the signature window: the row is useless after it.
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_request_replays_expires_at", "expires_at"),
)
