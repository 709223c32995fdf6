"""Running a command for a Slack request: who asked, the ``Context``, and failures explained.

A ``UserError`` comes back to the person as a short ephemeral message. A database that
refuses, fails or does not answer (``StoreUnavailable`` from ``bot.store.guard``, which runs
the command under its deadline, or a connection or pool error) is ``DATA_STORE_UNAVAILABLE``,
within seconds. Any other exception is logged with its traceback (never the request's tokens)
and the person gets a one-line apology. A request older than ``RESPONSE_URL_LIFETIME`` is not
answered at all: Slack would refuse the answer, and the person has long moved on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_bolt import BoltContext
from slack_sdk import WebClient
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.answers.message import Answer
from bot.core.errors import StoreUnavailable, UserError
from bot.ops.metrics import track_command
from bot.slack.services import Services
from bot.slackapi.clients import RESPONSE_URL_LIFETIME, Responder
from commands.base import Command, Context

log = logging.getLogger(__name__)

#: Longest command text accepted; every real argument is far shorter.
MAX_TEXT = 1000
APOLOGY = "Sorry, something went wrong on our side while answering that. It has been logged."
DATA_STORE_UNAVAILABLE = "The data store is unavailable; try again in a minute."
#: Database errors that mean "unreachable or overloaded", not a bug.
STORE_ERRORS = (StoreUnavailable, OperationalError, InterfaceError, PoolTimeout)
#: Where the acknowledgement leaves the time it received the request, for the answer.
RECEIVED_AT = "hubpulse_received_at"


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


def mark_received(context: BoltContext, now: datetime) -> None:
    """Called by the acknowledgement; ``too_late`` reads it in the answer."""
    context[RECEIVED_AT] = now.isoformat()


def too_late(context: BoltContext, now: datetime, what: str) -> bool:
    """Whether the request is older than its ``response_url`` lives (then logged, and
    nothing is sent: Slack would refuse it and the person has moved on)."""
    received = context.get(RECEIVED_AT)
    if not isinstance(received, str):
        return False
    age = now - datetime.fromisoformat(received)
    if age <= RESPONSE_URL_LIFETIME:
        return False
    log.warning(
        "not answering %s (team %s): received %d s ago, past the response_url's lifetime",
        what,
        context.team_id,
        age.total_seconds(),
    )
    return True


def tell_unavailable(respond: Responder, what: str, caller: Caller, exc: BaseException) -> None:
    """One line to the person; the cause logged without a traceback (it is an outage)."""
    log.warning(
        "%s not answered (team %s): data store unavailable (%s)",
        what,
        caller.team_id,
        type(exc).__name__,
    )
    try:
        respond(text=DATA_STORE_UNAVAILABLE, response_type="ephemeral", replace_original=False)
    except Exception:
        log.exception("could not tell the person that the data store is unavailable")


def apologize(respond: Responder, what: str, caller: Caller) -> None:
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
    respond: Responder,
) -> Answer | None:
    """The command's answer, or None once a problem has been explained to the person."""

    def run() -> Answer:
        return run_command(command, text, caller, services, client)

    try:
        with track_command(command.name, caller.team_id):
            try:
                return services.guard.run(run)
            except STORE_ERRORS as exc:
                if isinstance(exc, StoreUnavailable):
                    raise
                raise StoreUnavailable() from exc
    except UserError as exc:
        respond(text=exc.message, response_type="ephemeral", replace_original=False)
    except StoreUnavailable as exc:
        tell_unavailable(respond, command.name, caller, exc.__cause__ or exc)
    except Exception:
        apologize(respond, command.name, caller)
    return None
