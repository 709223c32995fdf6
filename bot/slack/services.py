"""What hubpulse's Bolt listeners share: the cache, the database and the registered commands.

Bolt deep-copies a request's context for lazy listeners, so shared objects such as the
database engine live on the app (``HubpulseApp.services``), not in the context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from sqlalchemy import Engine

from bot.core.clock import Clock, SystemClock
from bot.ops.metrics import observe_answer_retry
from bot.slack.users import UserTimezones
from bot.slackapi.clients import Responder, patient_handlers
from bot.store.guard import StoreGuard, guard_for
from bot.store.reader import Reader
from commands.base import Command


@dataclass
class Services:
    engine: Engine
    reader: Reader
    commands: dict[str, Command] = field(default_factory=dict)
    #: For people whose time zone Slack does not give (``HUBPULSE_TIMEZONE``).
    default_timezone: str = "UTC"
    timezones: UserTimezones = field(default_factory=UserTimezones)
    clock: Clock = field(default_factory=SystemClock)

    @property
    def guard(self) -> StoreGuard:
        """Database work for answers runs under this deadline (``bot.store.guard``)."""
        return guard_for(self.engine)

    def responder(self, response_url: str) -> Responder:
        """Posts to ``response_url``, retried like every answer (``patient_handlers``)."""
        return Responder(response_url, patient_handlers(observe_answer_retry))


class HubpulseApp(App):
    """A Bolt ``App`` that carries hubpulse's ``Services``."""

    def __init__(self, *, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services


def services_of(app: App) -> Services:
    if not isinstance(app, HubpulseApp):
        raise TypeError("hubpulse listeners need the app built by bot.slack.app.build_app")
    return app.services
