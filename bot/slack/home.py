"""The App Home tab: what the cache holds, every command with examples, and this workspace's
subscriptions (read with ``bot.channels.subscriptions.for_workspace``, so never another
workspace's)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from sqlalchemy.exc import SQLAlchemyError

from bot.answers.render import date, escape, human, thousands
from bot.channels import subscriptions
from bot.slack.replies import Block, text_blocks
from bot.slack.services import Services, services_of

log = logging.getLogger(__name__)

MAX_HOME_BLOCKS = 100
INTRO = (
    "How the open-model landscape on the Hugging Face Hub is moving: download share by "
    "country, org and family, model lineage, and new releases, from hubpulse's own cache of "
    "Hub metadata. Answers are private unless you add `public`."
)


def _section(text: str) -> Block:
    return SectionBlock(text=MarkdownTextObject(text=text)).to_dict()


def cache_blocks(services: Services) -> list[Block]:
    snapshot = services.reader.latest_or_none()
    if snapshot is None:
        return [_section("*Cache:* empty. Run `hubpulse refresh` (or `hubpulse demo`).")]
    hours = services.reader.age(snapshot).total_seconds() / 3600
    age = f"{hours:.0f} hours ago" if hours >= 1 else "less than an hour ago"
    return [
        _section(
            f"*Cache:* snapshot of {date(snapshot.taken_at, with_time=True)} ({age}): "
            f"{thousands(snapshot.models_total)} models; shares are of the top "
            f"{thousands(snapshot.top_models)} models, {human(snapshot.downloads_total)} "
            "downloads over 30 days."
        )
    ]


def command_blocks(services: Services) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="Commands").to_dict()]
    for command in services.commands.values():
        examples = "  ".join(f"`{escape(example)}`" for example in command.examples)
        text = f"*{escape(command.name)}*  {escape(command.summary)}"
        blocks += text_blocks(f"{text}\n{examples}" if examples else text)
    return blocks


def subscription_blocks(services: Services, team_id: str) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="Subscriptions in this workspace").to_dict()]
    try:
        found = subscriptions.for_workspace(services.engine, team_id)
    except SQLAlchemyError:
        log.exception("App Home could not read the subscriptions of team %s", team_id)
        return [*blocks, _section("Subscriptions cannot be shown right now.")]
    if not found:
        return [*blocks, _section("None yet: try `/subscribe deepseek-ai` in a channel.")]
    lines = []
    for item in found:
        paused = f" (paused: {escape(item.paused_reason)})" if item.paused_reason else ""
        lines.append(
            f"• <#{escape(item.channel.channel_id)}> follows *{escape(item.target.label)}* "
            f"({escape(item.features)}){paused}"
        )
    return [*blocks, *text_blocks("\n".join(lines))]


def home_blocks(services: Services, team_id: str) -> list[Block]:
    blocks = [
        HeaderBlock(text="hubpulse").to_dict(),
        _section(INTRO),
        *cache_blocks(services),
        DividerBlock().to_dict(),
        *command_blocks(services),
        DividerBlock().to_dict(),
        *subscription_blocks(services, team_id),
    ]
    if len(blocks) > MAX_HOME_BLOCKS:
        more = ContextBlock(elements=[MarkdownTextObject(text="…and more not shown")])
        blocks = [*blocks[: MAX_HOME_BLOCKS - 1], more.to_dict()]
    return blocks


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
