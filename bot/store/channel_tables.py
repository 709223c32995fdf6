"""Tables of subscriptions, digests, the delivery ledger and the scheduler's job store.

Every row that belongs to a Slack workspace carries its ``team_id`` (and ``enterprise_id``):
every query filters on it, so one workspace never sees another's rows.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
)

from bot.store.schema import ORG_ID, metadata

SLACK_ID = String(32)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("team_id", SLACK_ID, nullable=False),
    Column("enterprise_id", SLACK_ID, nullable=False, default=""),
    Column("channel_id", SLACK_ID, nullable=False),
    Column("target_kind", String(16), nullable=False),
    Column("target_key", ORG_ID, nullable=False),
    Column("features", String(16), nullable=False),
    Column("added_by", SLACK_ID, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("share_baseline", Float),
    Column("share_baseline_snapshot_id", Integer),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("last_error_at", DateTime(timezone=True)),
    Column("paused_reason", Text),
    Column("paused_at", DateTime(timezone=True)),
    UniqueConstraint("team_id", "channel_id", "target_kind", "target_key"),
    Index("ix_subscriptions_target", "target_kind", "target_key"),
)

digests = Table(
    "digests",
    metadata,
    Column("team_id", SLACK_ID, primary_key=True),
    Column("channel_id", SLACK_ID, primary_key=True),
    Column("enterprise_id", SLACK_ID, nullable=False, default=""),
    Column("enabled", Boolean, nullable=False),
    Column("weekday", String(3), nullable=False),
    Column("time", String(5), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("added_by", SLACK_ID, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_run_at", DateTime(timezone=True)),
    Column("last_result", Text),
    Column("last_period", String(32)),
    Column("last_snapshot_id", Integer),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("last_error_at", DateTime(timezone=True)),
    Column("paused_reason", Text),
    Column("paused_at", DateTime(timezone=True)),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("team_id", SLACK_ID, nullable=False),
    Column("enterprise_id", SLACK_ID, nullable=False, default=""),
    Column("channel_id", SLACK_ID, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("period_key", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("payload", Text, nullable=False),
    Column("snapshot_id", Integer),
    Column("late", Boolean, nullable=False, default=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("claimed_at", DateTime(timezone=True)),
    Column("claimed_by", String(64)),
    Column("sent_at", DateTime(timezone=True)),
    Column("message_ts", String(32)),
    UniqueConstraint("team_id", "channel_id", "kind", "period_key"),
)

alert_runs = Table(
    "alert_runs",
    metadata,
    Column("snapshot_id", Integer, primary_key=True),
    Column("planned_at", DateTime(timezone=True), nullable=False),
    Column("new_models", Integer, nullable=False),
    Column("messages", Integer, nullable=False),
)
"""One row per snapshot whose alerts were planned: the watermark of the alert pass."""

scheduler_jobs = Table(
    "apscheduler_jobs",
    metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
"""APScheduler's ``SQLAlchemyJobStore`` table, created here so that Alembic owns the schema."""
