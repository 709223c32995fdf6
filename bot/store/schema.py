"""Tables of the Hub cache. Alembic migrations in ``bot/migrations`` create them.

The cache is a history of snapshots. ``models`` and ``lineage_edges`` hold the latest known
metadata; everything that changes over time (downloads, likes, aggregates) is keyed by snapshot.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

MODEL_ID = String(200)
ORG_ID = String(100)

orgs = Table(
    "orgs",
    metadata,
    Column("org", ORG_ID, primary_key=True),
    Column("org_lower", ORG_ID, nullable=False, unique=True),
    Column("country", String(2), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("aliases", Text, nullable=False, default=""),
    Column("source", Text, nullable=False, default=""),
)

# A model's columns from the Hub are the fields of bot.model.fields.ModelMetadata (the writer
# stores them and the reader reads them by name); id_lower, first_seen_snapshot_id and fingerprint
# are the store's own.
models = Table(
    "models",
    metadata,
    Column("id", MODEL_ID, primary_key=True),
    Column("id_lower", MODEL_ID, nullable=False, index=True),
    Column("author", ORG_ID, nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), index=True),
    Column("pipeline_tag", String(100)),
    Column("library", String(100)),
    Column("license", String(100)),
    Column("gated", String(16), nullable=False, default="false"),
    Column("tags", Text, nullable=False, default="[]"),
    Column("first_seen_snapshot_id", Integer, index=True),
    # bot.model.columns.fingerprints of the row and the model's parent links: a refresh rewrites
    # only the models whose fingerprint changed (migration 0005).
    Column("fingerprint", BigInteger),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("taken_at", DateTime(timezone=True), nullable=False, index=True),
    Column("finished_at", DateTime(timezone=True)),
    Column("source", String(200), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("top_n", Integer, nullable=False),
    Column("models_total", Integer, nullable=False, default=0),
    Column("top_models", Integer, nullable=False, default=0),
    Column("org_models", Integer, nullable=False, default=0),
    Column("ancestors", Integer, nullable=False, default=0),
    Column("orgs_crawled", Integer, nullable=False, default=0),
    Column("downloads_total", BigInteger, nullable=False, default=0),
    Column("previous_snapshot_id", Integer),
    Column("note", Text, nullable=False, default=""),
    Column("error", Text),
    sqlite_autoincrement=True,
)

model_stats = Table(
    "model_stats",
    metadata,
    Column(
        "snapshot_id",
        Integer,
        ForeignKey("snapshots.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("model_id", MODEL_ID, primary_key=True),
    Column("downloads", BigInteger, nullable=False),
    Column("downloads_all_time", BigInteger),
    Column("likes", Integer, nullable=False, default=0),
    Column("trending_score", Float),
    Column("in_top", Boolean, nullable=False),
    Column("weekly_downloads", BigInteger),
    Column("weekly_basis", String(16)),
    Column("children_count", Integer),
    Column("family", ORG_ID),
    # The key is the table on SQLite: a year of daily history stays under 1 GiB (migration 0004).
    sqlite_with_rowid=False,
)

lineage_edges = Table(
    "lineage_edges",
    metadata,
    Column("child", MODEL_ID, primary_key=True),
    Column("parent", MODEL_ID, primary_key=True),
    Column("relation", String(16), nullable=False),
    Index("ix_lineage_edges_parent", "parent"),
    sqlite_with_rowid=False,  # migration 0005
)

aggregates = Table(
    "aggregates",
    metadata,
    Column(
        "snapshot_id",
        Integer,
        ForeignKey("snapshots.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("attribution", String(16), primary_key=True),
    Column("level", String(16), primary_key=True),
    Column("key", ORG_ID, primary_key=True),
    Column("downloads", Float, nullable=False),
    Column("models", Integer, nullable=False),
    Column("share", Float, nullable=False),
    Column("rank", Integer, nullable=False),
)

lineage_stats = Table(
    "lineage_stats",
    metadata,
    Column(
        "snapshot_id",
        Integer,
        ForeignKey("snapshots.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("model_id", MODEL_ID, primary_key=True),
    Column("descendants", Integer, nullable=False),
    Column("finetune", Integer, nullable=False, default=0),
    Column("quantized", Integer, nullable=False, default=0),
    Column("adapter", Integer, nullable=False, default=0),
    Column("merge", Integer, nullable=False, default=0),
    Column("unknown", Integer, nullable=False, default=0),
    Column("descendant_downloads", BigInteger, nullable=False, default=0),
    Column("top_descendants", Text, nullable=False, default="[]"),
    sqlite_with_rowid=False,
)
