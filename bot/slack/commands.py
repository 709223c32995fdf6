"""The one adapter between a ``Command`` and Slack.

Every slash command is acknowledged at once (within Slack's 3 seconds, whatever the load):
the acknowledgement only checks the text's length. The command then runs once, in a lazy
listener, and its answer goes out through ``response_url`` (ephemeral, with a "Share in
channel" button) or ``chat.postMessage`` (``public``). Commands with side effects (subscribe)
must run exactly once, which is why nothing runs them in the acknowledgement too.

The acknowledgement never waits for the database or for Slack (in OAuth mode, the
installation comes from memory: ``bot.slack.oauth``). A request acknowledged without its
installation, or whose command meets a database that does not answer, is told so in one line
(``DATA_STORE_UNAVAILABLE``); one that waited past its ``response_url``'s lifetime is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.core.errors import StoreUnavailable
from bot.slack.oauth import store_unavailable
from bot.slack.replies import post_in_channel, send_ephemeral
from bot.slack.running import (
    MAX_TEXT,
    Caller,
    answer_or_explain,
    apologize,
    mark_received,
    tell_unavailable,
    too_late,
    too_long,
)
from bot.slack.services import services_of
from bot.slack.share import share_tail
from commands.base import Command


def register_commands(app: App, commands: Iterable[Command]) -> None:
    """Wire every command into ``app``: adding a command never touches this module."""
    for command in commands:
        register_command(app, command)


def register_command(app: App, command: Command) -> None:
    """Acknowledge ``command`` at once, answer it in a lazy listener."""
    services = services_of(app)
    services.commands[command.name] = command

    def acknowledge(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        mark_received(context, services.clock.now())
        text = str(body.get("text") or "")
        if len(text) > MAX_TEXT:
            ack(text=too_long(text), response_type="ephemeral")
        else:
            ack()

    def answer(body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        text = str(body.get("text") or "")
        if len(text) > MAX_TEXT or not context.response_url:
            return  # answered by the acknowledgement (too long), or nowhere to answer
        caller = Caller.of(context)
        respond = services.responder(context.response_url)
        if too_late(context, services.clock.now(), command.name):
            return
        if store_unavailable(context):
            tell_unavailable(respond, command.name, caller, StoreUnavailable())
            return
        result = answer_or_explain(command, text, caller, services, client, respond)
        if result is None or too_late(context, services.clock.now(), command.name):
            return
        try:
            if result.in_channel:
                post_in_channel(
                    result, client=client, respond=respond, channel_id=caller.channel_id
                )
            else:
                tail = share_tail(command.name, text)
                send_ephemeral(result, client=client, respond=respond, tail=tail)
        except Exception:
            apologize(respond, command.name, caller)

    app.command(command.name)(ack=acknowledge, lazy=[answer])
