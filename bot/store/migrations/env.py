"""Alembic environment: migrations run on the engine hubpulse hands over."""

from alembic import context

from bot.store import channel_tables, history_tables, org_tables, replay_tables, slack_tables
from bot.store.schema import metadata

# Importing the table modules registers their tables on the one ``metadata``.
TABLE_MODULES = (channel_tables, history_tables, org_tables, replay_tables, slack_tables)

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
