"""A Hub, a Slack and a clock for the scheduling tests: digests, alerts and deliveries.

``World`` puts the real pieces together: ``bot.ingest.refresh.refresh`` crawling ``FakeHub``
with the
real huggingface_hub client, slack_sdk's WebClient posting to ``FakeSlack``, a migrated
database, and a ``FrozenClock`` the test moves. Nothing sleeps: the poster's pacing is
recorded in ``slept`` instead.

The registry is cut down to a few orgs so that each refresh asks the fake Hub for only those
orgs' models (a refresh then takes tens of milliseconds, and a week of them a few seconds).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from bot.answers.message import Answer
from bot.channels.channel import Channel
from bot.core.clock import FrozenClock
from bot.core.registry import Registry, load_registry
from bot.core.settings import Settings, load_settings
from bot.delivery.poster import SlackPoster
from bot.ingest import hub
from bot.ingest.refresh import Summary, refresh
from bot.jobs.runtime import Runtime
from bot.slackapi.clients import make_client
from bot.store.engine import make_engine, upgrade
from bot.store.reader import Reader
from commands.base import Command, Context
from tests.fakes.hub import FakeHub, make_record
from tests.fakes.slack import FakeSlack

ORGS = ("Qwen", "deepseek-ai", "meta-llama", "google", "unsloth", "mistralai")
START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
"""A Monday, 00:00 UTC (01:00 in Berlin)."""
TEAM, CHANNEL, USER = "T1", "C1", "U1"
TOKEN = "xoxb-1111-2222-hubworld"
TOP_N = 50


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def small_registry() -> Registry:
    full = load_registry()
    return Registry.from_orgs(org for org in full if org.org in ORGS)


def base_records() -> list[dict[str, Any]]:
    """Models that exist before the week starts (created long ago)."""
    old = "2025-06-01T00:00:00.000Z"
    return [
        make_record("Qwen/Qwen2.5-7B-Instruct", downloads=9_000_000, likes=900, created_at=old),
        make_record("deepseek-ai/DeepSeek-V3", downloads=4_000_000, likes=3000, created_at=old),
        make_record("meta-llama/Llama-3.1-8B-Instruct", downloads=8_000_000, created_at=old),
        make_record("google/gemma-3-4b-it", downloads=3_000_000, likes=400, created_at=old),
        make_record("mistralai/Mistral-7B-v0.3", downloads=1_000_000, created_at=old),
        make_record(
            "unsloth/Qwen2.5-7B-Instruct-GGUF",
            downloads=500_000,
            parents=["Qwen/Qwen2.5-7B-Instruct"],
            relation="quantized",
            extra_tags=["gguf"],
            created_at=old,
        ),
    ]


@dataclass
class World:
    engine: Engine
    hub: FakeHub
    slack: FakeSlack
    clock: FrozenClock
    settings: Settings
    registry: Registry = field(default_factory=small_registry)
    slept: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.api = hub.connect(self.hub.url, None)
        self.reader = Reader(self.engine, self.registry, self.clock)
        self.runtime = Runtime(
            engine=self.engine,
            reader=self.reader,
            clock=self.clock,
            poster=SlackPoster(self._token, lambda token: make_client(self.slack.api_url, token)),
            settings=self.settings,
            refresh=self.refresh,
            sleep=self.slept.append,
        )
        self.tokens: dict[str, str] = {}
        self.add_workspace(TEAM)
        self.add_channel(TEAM, CHANNEL)

    def _token(self, channel: Channel) -> str | None:
        return self.tokens.get(channel.team_id)

    def add_workspace(self, team_id: str, token: str | None = None) -> str:
        token = token or f"{TOKEN}-{team_id}"
        self.slack.add_workspace(team_id, token, team_name=f"Team {team_id}")
        self.tokens[team_id] = token
        return token

    def add_channel(self, team_id: str, channel_id: str, **options: Any) -> Channel:
        self.slack.add_channel(team_id, channel_id, **options)
        return Channel(team_id, channel_id)

    def refresh(self) -> Summary:
        backoff = hub.Backoff(sleep=self.slept.append)
        return refresh(
            self.engine,
            self.api,
            self.registry,
            TOP_N,
            clock=self.clock,
            workers=2,
            backoff=backoff,
        )

    def release(
        self, model_id: str, *, hours_ago: float = 2, downloads: int = 1000, **fields: Any
    ) -> None:
        """A model appears on the Hub, created ``hours_ago`` before now."""
        created = self.clock.now() - timedelta(hours=hours_ago)
        self.hub.put(make_record(model_id, downloads=downloads, created_at=iso(created), **fields))

    def context(
        self, team_id: str = TEAM, channel_id: str = CHANNEL, user_id: str = USER, tz: str = ""
    ) -> Context:
        return Context(
            reader=self.reader,
            engine=self.engine,
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            user_tz=tz,
            want_chart=False,
        )

    def run(self, command: Command, text: str, **where: str) -> Answer:
        return command.run(text, self.context(**where))

    def posts(self, channel_id: str = CHANNEL) -> list[dict[str, Any]]:
        """Messages posted in a channel (the fake keeps them per channel)."""
        return [m for m in self.slack.messages.get(channel_id, []) if m.get("subtype") is None]

    def texts(self, channel_id: str = CHANNEL) -> list[str]:
        return [str(m["text"]) for m in self.posts(channel_id)]


@contextmanager
def open_world(
    engine: Engine, *, start: datetime = START, environ: dict[str, str] | None = None
) -> Iterator[World]:
    with FakeHub(base_records()) as fake_hub, FakeSlack() as fake_slack:
        settings = load_settings({"SLACK_API_URL": fake_slack.api_url, **(environ or {})})
        yield World(engine, fake_hub, fake_slack, FrozenClock(start), settings)


_template: Path | None = None


def _template_database() -> Path:
    """A migrated SQLite file holding the snapshot a world takes at ``START``: built once per
    test process, copied for each test (migrating and crawling for every test is slow)."""
    global _template
    if _template is None:
        directory = Path(tempfile.mkdtemp(prefix="hubworld-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        path = directory / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        with open_world(engine) as world:
            world.refresh()
        with engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        engine.dispose()
        _template = path
    return _template


def world_engine(directory: Path) -> Engine:
    """A fresh copy of the template database in ``directory``: migrated, one snapshot."""
    path = directory / "hubpulse.db"
    shutil.copyfile(_template_database(), path)
    return make_engine(f"sqlite:///{path}")


@contextmanager
def installed_world(directory: Path, *, start: datetime = START) -> Iterator[World]:
    """A world on a copy of the template database (job functions take ``world.runtime``)."""
    engine = world_engine(directory)
    try:
        with open_world(engine, start=start) as world:
            yield world
    finally:
        engine.dispose()
