"""Running a command for a Slack request: who asked, the ``Context``, and failures explained.

A ``UserError`` comes back to the person as a short ephemeral message; any other exception is
logged with its traceback (never the request's tokens) and the person gets a one-line apology.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient

from bot.answers.message import Answer
from bot.core.errors import UserError
from bot.ops.metrics import track_command
from bot.slack.services import Services
from commands.base import Command, Context

log = logging.getLogger(__name__)

#: Longest command text accepted; every real argument is far shorter.
MAX_TEXT = 1000
APOLOGY = "Sorry, something went wrong on our side while answering that. It has been logged."


def too_long(text: str) -> str:
    return f"That is {len(text):,} characters; hubpulse commands take at most {MAX_TEXT:,}."


@dataclass(frozen=True)
class Caller:
    """Where a request came from; every answer is computed for this workspace only."""

    team_id: str
    enterprise_id: str
    channel_id: str
    user_id: str

    @classmethod
    def of(cls, context: BoltContext) -> Caller:
        return cls(
            team_id=context.team_id or "",
            enterprise_id=context.enterprise_id or "",
            channel_id=context.channel_id or "",
            user_id=context.user_id or "",
        )


def run_command(
    command: Command, text: str, caller: Caller, services: Services, client: WebClient
) -> Answer:
    context = Context(
        reader=services.reader,
        engine=services.engine,
        team_id=caller.team_id,
        enterprise_id=caller.enterprise_id,
        channel_id=caller.channel_id,
        user_id=caller.user_id,
        user_tz=services.timezones.get(client, caller.team_id, caller.user_id),
        want_chart=True,
        default_timezone=services.default_timezone,
    )
    return command.run(text, context)


def apologize(respond: Respond, what: str, caller: Caller) -> None:
    """Log the exception being handled and tell the person, in one line."""
    log.exception("%s failed (team %s, user %s)", what, caller.team_id, caller.user_id)
    try:
        respond(text=APOLOGY, response_type="ephemeral", replace_original=False)
    except Exception:
        log.exception("could not send the apology for %s", what)


def answer_or_explain(
    command: Command,
    text: str,
    caller: Caller,
    services: Services,
    client: WebClient,
    respond: Respond,
) -> Answer | None:
    """The command's answer, or None once a problem has been explained to the person."""
    try:
        with track_command(command.name, caller.team_id):
            return run_command(command, text, caller, services, client)
    except UserError as exc:
        respond(text=exc.message, response_type="ephemeral", replace_original=False)
    except Exception:
        apologize(respond, command.name, caller)
    return None
