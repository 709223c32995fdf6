"""whole-Hub history

Revision ID: 0006
Revises: 0005

The weeks imported from the public weekly archives of the Hub's model metadata
(``bot.store.history_tables``): one ``archive_weeks`` row a week, its totals by country and org
(``week_aggregates``), the repos each registered org created (``week_releases``), the few
models answers name (``week_models``), and whether each archive answered
(``archive_sources``). New tables only; nothing existing changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "archive_weeks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("models", sa.Integer(), nullable=False),
        sa.Column("downloads_total", sa.BigInteger(), nullable=False),
        sa.Column("downloads_all_time_total", sa.BigInteger(), nullable=True),
        sa.Column("missing_columns", sa.Text(), nullable=False),
        sa.Column("file_bytes", sa.BigInteger(), nullable=True),
        sa.Column("bytes_read", sa.BigInteger(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_archive_weeks"),
        sa.UniqueConstraint("day", name="uq_archive_weeks_day"),
    )
    op.create_index("ix_archive_weeks_status", "archive_weeks", ["status"])
    op.create_table(
        "archive_sources",
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("weeks_listed", sa.Integer(), nullable=False),
        sa.Column("unavailable_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", name="pk_archive_sources"),
    )
    tables: dict[str, list[sa.Column[object]]] = {
        "week_aggregates": [
            sa.Column("attribution", sa.String(16), nullable=False),
            sa.Column("level", sa.String(16), nullable=False),
            sa.Column("key", sa.String(100), nullable=False),
            sa.Column("models", sa.Integer(), nullable=False),
            sa.Column("downloads", sa.Float(), nullable=False),
            sa.Column("share", sa.Float(), nullable=False),
            sa.Column("rank", sa.Integer(), nullable=False),
            sa.Column("downloads_all_time", sa.Float(), nullable=True),
            sa.Column("share_all_time", sa.Float(), nullable=True),
        ],
        "week_releases": [
            sa.Column("org", sa.String(100), nullable=False),
            sa.Column("repos", sa.Integer(), nullable=False),
        ],
        "week_models": [
            sa.Column("model_id", sa.String(200), nullable=False),
            sa.Column("downloads", sa.BigInteger(), nullable=False),
            sa.Column("downloads_all_time", sa.BigInteger(), nullable=True),
        ],
    }
    keys = {
        "week_aggregates": ("week_id", "attribution", "level", "key"),
        "week_releases": ("week_id", "org"),
        "week_models": ("week_id", "model_id"),
    }
    for name, columns in tables.items():
        op.create_table(
            name,
            sa.Column("week_id", sa.Integer(), nullable=False),
            *columns,
            sa.ForeignKeyConstraint(
                ["week_id"],
                ["archive_weeks.id"],
                name=f"fk_{name}_week_id_archive_weeks",
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint(*keys[name], name=f"pk_{name}"),
            sqlite_with_rowid=False,
        )


def downgrade() -> None:
    for name in ("week_models", "week_releases", "week_aggregates", "archive_sources"):
        op.drop_table(name)
    op.drop_index("ix_archive_weeks_status", table_name="archive_weeks")
    op.drop_table("archive_weeks")
