"""The real hubpulse Slack app in HTTP mode, in-process, against tests/fakes/slack.py's FakeSlack.

``SlackHarness`` builds the app with ``bot.slack.app.build_app`` (real slack_bolt, real slack_sdk
WebClient pointed at the fake through ``SLACK_API_URL``), serves it with the same threaded
WSGI server ``hubpulse serve`` uses on a free loopback port, and sends it requests signed
exactly as Slack signs them::

    harness.post_command("/share", "qwen")          # a signed slash command
    fake.wait_for(lambda calls: ...)                 # what reached "Slack"

The database holds two small fixture snapshots (a week apart), so answers are real answers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine

from bot.core.clock import FrozenClock
from bot.core.registry import load_registry
from bot.core.settings import Settings, load_settings
from bot.model.crawl import Crawl
from bot.model.records import to_record
from bot.slack.app import build_app
from bot.slack.http import http_server, make_wsgi_app
from bot.slack.services import HubpulseApp
from bot.store.engine import make_engine, upgrade
from bot.store.writer import store_crawl
from commands.base import Command
from tests.fakes.hub import make_record
from tests.fakes.slack import FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99fffeee85a5"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
APP_TOKEN = "xapp-1-A0HUBPULSE-1234567890-0123456789abcdef"
CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "c0ffee0123456789abcdef0123456789"
TEAM, CHANNEL, USER = "T1", "C1", "U1"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: Every Slack request must be acknowledged within this.
ACK_LIMIT_SECONDS = 3.0
ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"serving Slack \((?:http|oauth)\) on http://[\d.]+:(\d+)/slack/events")


def fixture_records(scale: float = 1.0) -> list[dict[str, Any]]:
    """A small Hub: Chinese and US families with fine-tunes, a quantization and a cross-border
    fine-tune (a US org building on a Chinese base)."""

    def n(value: int) -> int:
        return round(value * scale)

    return [
        make_record("Qwen/Qwen2.5-7B-Instruct", downloads=n(9_000_000), likes=900),
        make_record("Qwen/Qwen3-8B", downloads=n(6_000_000), likes=700, created_at=_iso(-3)),
        make_record("deepseek-ai/DeepSeek-V3", downloads=n(4_000_000), likes=3000),
        make_record(
            "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
            downloads=n(2_000_000),
            parents=["Qwen/Qwen2.5-7B-Instruct"],
        ),
        make_record("meta-llama/Llama-3.1-8B-Instruct", downloads=n(8_000_000), likes=1200),
        make_record("google/gemma-3-4b-it", downloads=n(3_000_000), likes=400),
        make_record(
            "deepcogito/cogito-v2-preview",
            downloads=n(500_000),
            parents=["deepseek-ai/DeepSeek-V3"],
            created_at=_iso(-2),
        ),
        make_record(
            "unsloth/Qwen3-8B-GGUF",
            downloads=n(1_500_000),
            parents=["Qwen/Qwen3-8B"],
            relation="quantized",
            extra_tags=["gguf"],
        ),
        make_record("mistralai/Mistral-7B-Instruct-v0.3", downloads=n(2_500_000), likes=500),
        make_record("someone/tiny-experiment", downloads=n(1_000)),
    ]


def _iso(days: int) -> str:
    return (NOW + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def store_fixture_snapshots(engine: Engine, now: datetime = NOW) -> None:
    """Two snapshots: a week ago and an hour ago (downloads grown a little)."""
    registry = load_registry()
    for age, scale in ((timedelta(days=7, hours=1), 0.9), (timedelta(hours=1), 1.0)):
        records = {r.id: r for r in (to_record(raw) for raw in fixture_records(scale))}
        top = sorted(records, key=lambda m: records[m].downloads, reverse=True)
        store_crawl(
            engine,
            Crawl(records=records, top_ids=top),
            registry,
            taken_at=now - age,
            finished_at=now - age + timedelta(minutes=5),
            source="fixture",
            top_n=100,
        )


def migrated_with_snapshots(database_url: str, now: datetime = NOW) -> str:
    """Migrate the database at ``database_url`` and store the two fixture snapshots in it, for
    a server in another process to read; the URL again."""
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        store_fixture_snapshots(engine, now=now)
    finally:
        engine.dispose()
    return database_url


@contextmanager
def harness_slack() -> Iterator[FakeSlack]:
    """A running FakeSlack with the harness's workspace (``TEAM``, ``BOT_TOKEN``), its channel
    ``CHANNEL`` with the bot in it, and its user ``USER``."""
    with FakeSlack() as fake:
        fake.add_workspace(TEAM, BOT_TOKEN)
        fake.add_channel(TEAM, CHANNEL)
        fake.add_user(TEAM, USER)
        yield fake


def sign(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    """Slack's v0 signature: hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: bytes, content_type: str, *, secret: str = SIGNING_SECRET, timestamp: str | None = None
) -> dict[str, str]:
    stamp = timestamp if timestamp is not None else str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sign(body, stamp, secret),
    }


def command_fields(
    command: str,
    text: str,
    *,
    response_url: str,
    team_id: str = TEAM,
    channel_id: str = CHANNEL,
    user_id: str = USER,
) -> dict[str, str]:
    """A slash command's fields, as Slack sends them (form-encoded over HTTP, a Socket Mode
    envelope's payload as they are)."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": team_id.lower(),
        "channel_id": channel_id,
        "channel_name": channel_id.lower(),
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": FakeSlack.APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    }


def command_body(command: str, text: str, **fields: str) -> bytes:
    """A slash command's form body: ``command_fields`` (same arguments), form-encoded."""
    return urlencode(command_fields(command, text, **fields)).encode()


@dataclass
class Reply:
    status: int
    body: bytes
    headers: Mapping[str, str]  # names in lower case
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None


def _lower(items: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


def http(url: str, *, data: bytes | None = None, headers: Mapping[str, str] | None = None) -> Reply:
    """One request with the standard library; HTTP errors are replies too."""
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}))
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            status, reply_headers = response.status, _lower(response.headers.items())
    except urllib.error.HTTPError as exc:
        body, status, reply_headers = exc.read(), exc.code, _lower(exc.headers.items())
    return Reply(status, body, reply_headers, time.perf_counter() - start)


def harness_settings(fake: FakeSlack, database_url: str, *, oauth: bool = False) -> Settings:
    env = {
        "HUBPULSE_DATABASE_URL": database_url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
    }
    if oauth:
        env |= {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET}
    else:
        env["SLACK_BOT_TOKEN"] = BOT_TOKEN
    return load_settings(env)


class SlackHarness:
    """The app on ``127.0.0.1:<free port>``; use as a context manager."""

    def __init__(
        self,
        fake: FakeSlack,
        engine: Engine,
        *,
        oauth: bool = False,
        clock: FrozenClock | None = None,
        commands: Sequence[Command] | None = None,
        max_age: timedelta = timedelta(hours=36),
        routes: Mapping[str, Any] | None = None,
    ) -> None:
        self.fake = fake
        self.clock = clock or FrozenClock(NOW)
        url = engine.url.render_as_string(hide_password=False)
        self.settings = harness_settings(fake, url, oauth=oauth)
        self.app: HubpulseApp = build_app(
            self.settings, engine, clock=self.clock, commands=commands
        )
        application = make_wsgi_app(
            self.app,
            self.app.services.reader,
            max_age,
            routes,
            signing_secret=self.settings.slack_signing_secret or "",
        )
        self.server = http_server(application, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> SlackHarness:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Reply:
        return http(self.url + path, headers=headers)

    def post_signed(
        self,
        body: bytes,
        content_type: str,
        *,
        signing_secret: str = SIGNING_SECRET,
        timestamp: str | None = None,
    ) -> Reply:
        headers = signed_headers(body, content_type, secret=signing_secret, timestamp=timestamp)
        return http(self.url + "/slack/events", data=body, headers=headers)

    def post_command(
        self,
        command: str,
        text: str = "",
        *,
        team_id: str = TEAM,
        channel_id: str = CHANNEL,
        user_id: str = USER,
        signing_secret: str = SIGNING_SECRET,
        timestamp: str | None = None,
        response_url: str | None = None,
    ) -> Reply:
        """A slash command, signed like Slack signs it, with a response URL on the fake."""
        body = command_body(
            command,
            text,
            response_url=response_url or self.fake.response_url(command.strip("/")),
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
        )
        return self.post_signed(
            body,
            "application/x-www-form-urlencoded",
            signing_secret=signing_secret,
            timestamp=timestamp,
        )

    def post_action(self, payload: Mapping[str, Any]) -> Reply:
        """An interactivity payload (``payload=<json>``, form-encoded, signed)."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post_signed(body, "application/x-www-form-urlencoded")

    def post_event(self, event: Mapping[str, Any], *, team_id: str = TEAM) -> Reply:
        """An Events API callback (JSON, signed)."""
        body = json.dumps(
            {
                "token": "deprecated-verification-token",
                "team_id": team_id,
                "api_app_id": FakeSlack.APP_ID,
                "event": dict(event),
                "type": "event_callback",
                "event_id": f"Ev{time.monotonic_ns()}",
                "event_time": int(time.time()),
            }
        ).encode()
        return self.post_signed(body, "application/json")


def share_action_payload(
    value: str,
    *,
    response_url: str,
    team_id: str = TEAM,
    channel_id: str = CHANNEL,
    user_id: str = USER,
) -> dict[str, Any]:
    """A ``block_actions`` payload for the Share button under an ephemeral message."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team_id},
        "api_app_id": FakeSlack.APP_ID,
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": channel_id,
            "is_ephemeral": True,
        },
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "team": {"id": team_id, "domain": team_id.lower()},
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "response_url": response_url,
        "actions": [
            {
                "action_id": "hubpulse_share",
                "block_id": "hubpulse_share",
                "text": {"type": "plain_text", "text": "Share in channel"},
                "value": value,
                "type": "button",
                "action_ts": "1700000001.000200",
            }
        ],
    }


class ServeProcess:
    """``hubpulse serve`` (HTTP mode, no scheduler) in a subprocess, pointed at ``fake``.

    Entering waits until the server logs where it listens (reading its log, not polling);
    the rest of its log is drained in a thread into ``log`` so the pipe never fills.
    """

    def __init__(self, fake: FakeSlack, database_url: str) -> None:
        self.fake = fake
        self.env = {
            **os.environ,
            "HUBPULSE_DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
        }
        self.log: list[str] = []
        self.url = ""
        self.process: subprocess.Popen[str] | None = None
        self._drain: threading.Thread | None = None

    def __enter__(self) -> ServeProcess:
        args = ["serve", "--port=0", "--host=127.0.0.1", "--no-scheduler"]
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import run; run()", *args],
            cwd=ROOT,
            env=self.env,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            found = LISTENING.search(line)
            if found:
                self.url = f"http://127.0.0.1:{found.group(1)}"
                break
        else:
            self.process.wait(timeout=30)
            raise AssertionError("hubpulse serve exited before listening:\n" + "".join(self.log))
        self._drain = threading.Thread(target=self._read_log, daemon=True)
        self._drain.start()
        return self

    def _read_log(self) -> None:
        assert self.process is not None
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> int:
        """SIGTERM, then the exit code (0 when it stopped cleanly)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(timeout=30)
        if self._drain is not None:
            self._drain.join(timeout=5)
        return code

    def post_command(
        self, command: str, text: str, response_url: str, *, team_id: str = TEAM
    ) -> Reply:
        body = command_body(command, text, response_url=response_url, team_id=team_id)
        headers = signed_headers(body, "application/x-www-form-urlencoded")
        return http(self.url + "/slack/events", data=body, headers=headers)

    def post_share(self, text: str, *, team_id: str = TEAM) -> tuple[Reply, str]:
        """``/share text`` with a new response URL on the fake: the acknowledgement, and the
        URL the answer will go to."""
        url = self.fake.response_url()
        return self.post_command("/share", text, url, team_id=team_id), url
