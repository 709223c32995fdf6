"""slack_sdk's OAuth installation and state tables, as part of the project's schema.

They are created by an Alembic migration like every other table (not by the stores'
``create_tables()``), so multi-workspace deployments upgrade in one step.
"""

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.store.schema import metadata

BOTS_TABLE = "slack_bots"
INSTALLATIONS_TABLE = "slack_installations"
STATES_TABLE = "slack_oauth_states"

bots = SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS_TABLE)
installations = SQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS_TABLE)
oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, STATES_TABLE)
