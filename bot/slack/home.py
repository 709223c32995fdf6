"""The App Home tab: what the cache holds (and whether it is the illustrative demo), every
command (the ``/hubpulse help`` overview, which says they all work after ``/hubpulse``) and
this workspace's subscriptions (read with ``bot.channels.subscriptions.for_workspace``, so
never another workspace's)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.answers.blocks import VIEW_BLOCKS, build_message
from bot.answers.render import render
from bot.channels import subscriptions
from bot.channels.subscriptions import Subscription
from bot.slack.replies import Block
from bot.slack.services import Services, services_of
from bot.store.snapshots import is_demo_source
from commands import hubpulse

log = logging.getLogger(__name__)


def workspace_subscriptions(services: Services, team_id: str) -> list[Subscription] | None:
    """The workspace's subscriptions, or None when they cannot be read (logged)."""
    try:
        return subscriptions.for_workspace(services.engine, team_id)
    except SQLAlchemyError:
        log.exception("App Home could not read the subscriptions of team %s", team_id)
        return None


def home_blocks(services: Services, team_id: str) -> list[Block]:
    snapshot = services.reader.latest_or_none()
    hours = services.reader.age(snapshot).total_seconds() / 3600 if snapshot else 0.0
    layout = render(
        "home.j2",
        snapshot=snapshot,
        hours_ago=round(hours) if hours >= 1 else None,
        illustrative=snapshot is not None and is_demo_source(snapshot.source),
        commands=list(services.commands.values()),
        namespace=hubpulse.COMMAND,
        found=workspace_subscriptions(services, team_id),
    )
    return build_message(layout, VIEW_BLOCKS).blocks


def register_home(app: App) -> None:
    services = services_of(app)

    def acknowledge(ack: Ack) -> None:
        ack()

    def publish(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        try:
            blocks = home_blocks(services, context.team_id or "")
            client.views_publish(user_id=event["user"], view={"type": "home", "blocks": blocks})
        except SlackApiError:
            return  # logged by the client
        except Exception:
            log.exception("App Home failed (team %s)", context.team_id)

    app.event("app_home_opened")(ack=acknowledge, lazy=[publish])
