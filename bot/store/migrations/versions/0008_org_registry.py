"""org registry imports

Revision ID: 0008
Revises: 0007

The org rows ``hubpulse orgs import --apply`` stores (``bot.store.org_tables``), layered over
the bundled registry by every process that shares the database. A new table only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "org_imports",
        sa.Column("org_lower", sa.String(100), nullable=False),
        sa.Column("org", sa.String(100), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_lower", name="pk_org_imports"),
    )


def downgrade() -> None:
    op.drop_table("org_imports")
