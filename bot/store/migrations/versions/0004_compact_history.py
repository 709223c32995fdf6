"""compact history

Revision ID: 0004
Revises: 0003

The per-snapshot tables hold 20,000 rows a snapshot. On SQLite a year of daily snapshots grew
4.8 MiB a day (575 MiB after 120 days: 1.7 GiB a year), over the 1 GiB budget; with these two
changes it measured 1,052 MiB as written and 941 MiB after VACUUM (benchmarks/history_size.py):

* ``model_stats`` and ``lineage_stats`` become WITHOUT ROWID tables on SQLite: the primary key
  (snapshot_id, model_id) is then the table itself instead of a second B-tree copying both
  columns of every row;
* ``ix_model_stats_model_id`` goes: every query reads stats by (snapshot_id, model_id), the
  primary key, and a model's history is a primary-key lookup per snapshot.

PostgreSQL has no rowid tables; it only loses the index. Every row is kept.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild_without_rowid(table: str) -> None:
    with op.batch_alter_table(
        table, recreate="always", table_kwargs={"sqlite_with_rowid": False}
    ) as batch_op:
        if table == "model_stats":
            batch_op.drop_index("ix_model_stats_model_id")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_without_rowid("model_stats")
        _rebuild_without_rowid("lineage_stats")
    else:
        op.drop_index("ix_model_stats_model_id", table_name="model_stats")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in ("model_stats", "lineage_stats"):
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_with_rowid": True}
            ):
                pass
    op.create_index("ix_model_stats_model_id", "model_stats", ["model_id"], unique=False)
