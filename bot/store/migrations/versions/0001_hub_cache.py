"""hub cache

Revision ID: 0001
Revises: (none)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lineage_edges",
        sa.Column("child", sa.String(length=200), nullable=False),
        sa.Column("parent", sa.String(length=200), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("child", "parent", name=op.f("pk_lineage_edges")),
    )
    with op.batch_alter_table("lineage_edges", schema=None) as batch_op:
        batch_op.create_index("ix_lineage_edges_parent", ["parent"], unique=False)

    op.create_table(
        "models",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("id_lower", sa.String(length=200), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pipeline_tag", sa.String(length=100), nullable=True),
        sa.Column("library", sa.String(length=100), nullable=True),
        sa.Column("license", sa.String(length=100), nullable=True),
        sa.Column("gated", sa.String(length=16), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("first_seen_snapshot_id", sa.Integer(), nullable=True),
        sa.Column("last_seen_snapshot_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
    )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_models_author"), ["author"], unique=False)
        batch_op.create_index(batch_op.f("ix_models_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_models_first_seen_snapshot_id"), ["first_seen_snapshot_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_models_id_lower"), ["id_lower"], unique=False)

    op.create_table(
        "orgs",
        sa.Column("org", sa.String(length=100), nullable=False),
        sa.Column("org_lower", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("org", name=op.f("pk_orgs")),
        sa.UniqueConstraint("org_lower", name=op.f("uq_orgs_org_lower")),
    )
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("top_n", sa.Integer(), nullable=False),
        sa.Column("models_total", sa.Integer(), nullable=False),
        sa.Column("top_models", sa.Integer(), nullable=False),
        sa.Column("org_models", sa.Integer(), nullable=False),
        sa.Column("ancestors", sa.Integer(), nullable=False),
        sa.Column("orgs_crawled", sa.Integer(), nullable=False),
        sa.Column("downloads_total", sa.BigInteger(), nullable=False),
        sa.Column("previous_snapshot_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshots")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_snapshots_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_snapshots_taken_at"), ["taken_at"], unique=False)

    op.create_table(
        "aggregates",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("attribution", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("downloads", sa.Float(), nullable=False),
        sa.Column("models", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name=op.f("fk_aggregates_snapshot_id_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "attribution", "level", "key", name=op.f("pk_aggregates")
        ),
    )
    op.create_table(
        "lineage_stats",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(length=200), nullable=False),
        sa.Column("descendants", sa.Integer(), nullable=False),
        sa.Column("finetune", sa.Integer(), nullable=False),
        sa.Column("quantized", sa.Integer(), nullable=False),
        sa.Column("adapter", sa.Integer(), nullable=False),
        sa.Column("merge", sa.Integer(), nullable=False),
        sa.Column("unknown", sa.Integer(), nullable=False),
        sa.Column("descendant_downloads", sa.BigInteger(), nullable=False),
        sa.Column("top_descendants", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name=op.f("fk_lineage_stats_snapshot_id_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "model_id", name=op.f("pk_lineage_stats")),
    )
    op.create_table(
        "model_stats",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(length=200), nullable=False),
        sa.Column("downloads", sa.BigInteger(), nullable=False),
        sa.Column("downloads_all_time", sa.BigInteger(), nullable=True),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("trending_score", sa.Float(), nullable=True),
        sa.Column("in_top", sa.Boolean(), nullable=False),
        sa.Column("weekly_downloads", sa.BigInteger(), nullable=True),
        sa.Column("weekly_basis", sa.String(length=16), nullable=True),
        sa.Column("children_count", sa.Integer(), nullable=True),
        sa.Column("family", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name=op.f("fk_model_stats_snapshot_id_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "model_id", name=op.f("pk_model_stats")),
    )
    with op.batch_alter_table("model_stats", schema=None) as batch_op:
        batch_op.create_index("ix_model_stats_model_id", ["model_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("model_stats", schema=None) as batch_op:
        batch_op.drop_index("ix_model_stats_model_id")

    op.drop_table("model_stats")
    op.drop_table("lineage_stats")
    op.drop_table("aggregates")
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snapshots_taken_at"))
        batch_op.drop_index(batch_op.f("ix_snapshots_status"))

    op.drop_table("snapshots")
    op.drop_table("orgs")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_models_id_lower"))
        batch_op.drop_index(batch_op.f("ix_models_first_seen_snapshot_id"))
        batch_op.drop_index(batch_op.f("ix_models_created_at"))
        batch_op.drop_index(batch_op.f("ix_models_author"))

    op.drop_table("models")
    with op.batch_alter_table("lineage_edges", schema=None) as batch_op:
        batch_op.drop_index("ix_lineage_edges_parent")

    op.drop_table("lineage_edges")
