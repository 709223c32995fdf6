"""models unchanged in place

Revision ID: 0005
Revises: 0004

A refresh rewrote every row of ``models`` and ``lineage_edges`` although from one snapshot to
the next almost none of them change (benchmarks/refresh.py):

* ``models.last_seen_snapshot_id`` goes. It changed on every row at every refresh, so every row
  was rewritten to record it, and nothing read it: the snapshots that saw a model are the
  ``model_stats`` rows that name it.
* ``models.fingerprint`` is new: a digest of the stored row and the model's parent links
  (``bot.model.columns.fingerprint``). A refresh reads the fingerprints, and writes the row and the
  links only of a model whose fingerprint changed; empty until a model's next refresh.
* ``lineage_edges`` becomes a WITHOUT ROWID table on SQLite: its primary key (child, parent) is
  then the table itself instead of a second B-tree copying both ids of every link.

Every other column and every row is kept; a downgrade sets ``last_seen_snapshot_id`` again from
``model_stats``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("models") as batch_op:
        batch_op.drop_column("last_seen_snapshot_id")
        batch_op.add_column(sa.Column("fingerprint", sa.BigInteger(), nullable=True))
    if sqlite:
        with op.batch_alter_table(
            "lineage_edges", recreate="always", table_kwargs={"sqlite_with_rowid": False}
        ):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "lineage_edges", recreate="always", table_kwargs={"sqlite_with_rowid": True}
        ):
            pass
    with op.batch_alter_table("models") as batch_op:
        batch_op.drop_column("fingerprint")
        batch_op.add_column(sa.Column("last_seen_snapshot_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE models SET last_seen_snapshot_id ="
        " (SELECT max(snapshot_id) FROM model_stats WHERE model_stats.model_id = models.id)"
    )
