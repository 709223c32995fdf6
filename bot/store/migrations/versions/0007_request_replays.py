"""request replays

Revision ID: 0007
Revises: 0006

The Slack requests already seen (``bot.store.replay_tables``): the hash of each signed request's
timestamp and signature, until its signature window ends, so a replayed request is
acknowledged and ignored by every replica. A new table only; nothing existing changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "request_replays",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_request_replays"),
    )
    op.create_index("ix_request_replays_expires_at", "request_replays", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_request_replays_expires_at", table_name="request_replays")
    op.drop_table("request_replays")
