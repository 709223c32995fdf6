"""The "Share in channel" button under an ephemeral answer.

The button's value holds the command and its text (JSON, at most Slack's 2,000 characters,
the text mrkdwn-escaped so that a ``<!channel>`` typed by someone never travels back raw);
pressing it runs the command again for the presser's workspace and posts the answer in the
channel, then removes the private copy. Nothing but the value is trusted: an unknown command
or a malformed value gets a short ephemeral note.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from bot.answers.blocks import BUTTON_VALUE_CHARS
from bot.answers.mrkdwn import escape, unescape
from bot.slack.replies import Block, post_in_channel
from bot.slack.running import MAX_TEXT, Caller, answer_or_explain, apologize
from bot.slack.services import services_of

SHARE_ACTION = "hubpulse_share"
STALE_BUTTON = "That button no longer works here; run the command again."


def share_tail(command_name: str, text: str) -> list[Block]:
    """The button as the last block of an answer, or nothing if the text cannot fit in it."""
    value = json.dumps(
        {"command": command_name, "text": escape(text)}, ensure_ascii=False, separators=(",", ":")
    )
    if len(value) > BUTTON_VALUE_CHARS:
        return []
    button = ButtonElement(text="Share in channel", action_id=SHARE_ACTION, value=value)
    return [ActionsBlock(block_id=SHARE_ACTION, elements=[button]).to_dict()]


def shared_request(body: dict[str, Any]) -> tuple[str, str] | None:
    """(command name, text) from a pressed Share button, or None if the value is not ours."""
    actions = body.get("actions") or []
    try:
        data = json.loads(actions[0]["value"])
        command, text = data["command"], data["text"]
    except (IndexError, KeyError, TypeError, ValueError):
        return None
    if not isinstance(command, str) or not isinstance(text, str):
        return None
    text = unescape(text)
    return (command, text) if len(text) <= MAX_TEXT else None


def register_share_action(app: App) -> None:
    services = services_of(app)

    def acknowledge(ack: Ack) -> None:
        ack()

    def share(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        if not context.response_url:
            return  # nowhere to answer
        caller = Caller.of(context)
        respond = services.responder(context.response_url)
        request = shared_request(body)
        command = services.commands.get(request[0]) if request else None
        if request is None or command is None:
            respond(text=STALE_BUTTON, response_type="ephemeral", replace_original=False)
            return
        answer = answer_or_explain(command, request[1], caller, services, client, respond)
        if answer is None:
            return
        try:
            post_in_channel(answer, client=client, respond=respond, channel_id=caller.channel_id)
            respond(delete_original=True)
        except Exception:
            apologize(respond, f"sharing {command.name}", caller)

    app.action(SHARE_ACTION)(ack=acknowledge, lazy=[share])
