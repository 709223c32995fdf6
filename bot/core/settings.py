"""Configuration: environment variables (and an optional ``.env`` file), checked at start.

Every setting has one name, one default and one check here; the README's settings table is
written from ``SETTINGS`` (``settings_table()``). A problem never shows a secret's value, and
secrets are masked whenever settings are shown.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.core.errors import ConfigError
from bot.core.setting_values import (
    Parser,
    choice,
    client_id,
    database_url,
    hex,
    hf_token,
    hours,
    http_url,
    number,
    seconds,
    slack_api_url,
    timezone,
    token,
    whole,
)

SECRET_FIELDS = frozenset(
    {
        "hf_token",
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
        "slack_client_secret",
    }
)


GRACE_MIN_SECONDS = 1
"""APScheduler refuses a misfire grace time below one whole second."""
LEADER_CHECK_MAX_SECONDS = 15.0
"""The longest time between a scheduler's checks of the leader lock: a quarter of the lock's
lease (``bot.jobs.leader.LEASE_SECONDS``), so a live leader never comes near losing it."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    hf_endpoint: str
    hf_token: str | None
    top_n: int
    slack_bot_token: str | None
    slack_app_token: str | None
    slack_signing_secret: str | None
    slack_client_id: str | None
    slack_client_secret: str | None
    slack_api_url: str
    log_format: str
    log_level: str
    timezone: str
    refresh_hours: int
    health_max_age_hours: float
    digest_late_hours: float
    share_alert_pp: float
    port: int
    archive_repo: str
    leader_check_seconds: float
    orgs_file: str | None = None

    @property
    def digest_late_seconds(self) -> int:
        """``digest_late_hours`` as the scheduler's misfire grace time (whole seconds)."""
        return int(self.digest_late_hours * 3600)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def secrets(self) -> list[str]:
        """Values that must never reach a log line: tokens, secrets, the database password."""
        values = [getattr(self, name) for name in sorted(SECRET_FIELDS)]
        with contextlib.suppress(ArgumentError):
            values.append(make_url(self.database_url).password)
        return [str(value) for value in values if value]


@dataclass(frozen=True)
class Setting:
    field: str
    env: str
    default: str | None
    help: str
    parse: Parser = str
    shown_default: str | None = None
    """The default as the README states it, when it is computed rather than fixed."""


SETTINGS = (
    Setting(
        "database_url",
        "HUBPULSE_DATABASE_URL",
        None,
        "Database: `sqlite:///path` or `postgresql+psycopg://user:password@host/db`",
        database_url,
        "embedded SQLite, `$XDG_DATA_HOME/hubpulse/hubpulse.db`",
    ),
    Setting(
        "hf_endpoint",
        "HF_ENDPOINT",
        "https://huggingface.co",
        "Hugging Face Hub endpoint",
        http_url,
    ),
    Setting(
        "hf_token", "HF_TOKEN", None, "Hub token (optional; raises the Hub's rate limit)", hf_token
    ),
    Setting(
        "top_n",
        "HUBPULSE_TOP_N",
        "20000",
        "Models in each snapshot's share denominator",
        whole(1, 1_000_000),
    ),
    Setting(
        "slack_bot_token",
        "SLACK_BOT_TOKEN",
        None,
        "Bot token (xoxb-), single workspace",
        token("xoxb-", "a bot token"),
    ),
    Setting(
        "slack_app_token",
        "SLACK_APP_TOKEN",
        None,
        "App-level token (xapp-): Socket Mode",
        token("xapp-", "an app-level token"),
    ),
    Setting(
        "slack_signing_secret",
        "SLACK_SIGNING_SECRET",
        None,
        "Signing secret, HTTP mode",
        hex("signing secret"),
    ),
    Setting(
        "slack_client_id",
        "SLACK_CLIENT_ID",
        None,
        "OAuth client id, multi-workspace",
        client_id,
    ),
    Setting(
        "slack_client_secret",
        "SLACK_CLIENT_SECRET",
        None,
        "OAuth client secret",
        hex("client secret"),
    ),
    Setting(
        "slack_api_url",
        "SLACK_API_URL",
        "https://slack.com/api/",
        "Slack Web API base URL",
        slack_api_url,
    ),
    Setting("log_format", "HUBPULSE_LOG_FORMAT", "text", "text or json", choice("text", "json")),
    Setting(
        "log_level",
        "HUBPULSE_LOG_LEVEL",
        "INFO",
        "DEBUG, INFO, WARNING or ERROR",
        choice("DEBUG", "INFO", "WARNING", "ERROR", upper=True),
    ),
    Setting(
        "timezone",
        "HUBPULSE_TIMEZONE",
        "UTC",
        "Default IANA timezone for digests when a channel names none",
        timezone,
    ),
    Setting(
        "refresh_hours",
        "HUBPULSE_REFRESH_HOURS",
        "6",
        "Hours between scheduled Hub refreshes",
        whole(1, 168),
    ),
    Setting(
        "health_max_age_hours",
        "HUBPULSE_HEALTH_MAX_AGE_HOURS",
        "36",
        "/healthz answers 503 when the latest snapshot is older than this",
        number(0, 24 * 90),
    ),
    Setting(
        "digest_late_hours",
        "HUBPULSE_DIGEST_LATE_HOURS",
        "24",
        "A digest missed by less than this (service down) is still sent once, marked late",
        hours(168, at_least_seconds=GRACE_MIN_SECONDS),
    ),
    Setting(
        "share_alert_pp",
        "HUBPULSE_SHARE_ALERT_PP",
        "0.5",
        "Share move, in percentage points, that triggers a share alert",
        number(0, 100),
    ),
    Setting("port", "HUBPULSE_PORT", "3000", "HTTP port of `hubpulse serve`", whole(1, 65535)),
    Setting(
        "archive_repo",
        "HUBPULSE_ARCHIVE_REPO",
        "hfmlsoc/hub_weekly_snapshots",
        "Weekly whole-Hub archive for `hubpulse backfill`: a dataset repo on HF_ENDPOINT, "
        "or a local directory of the same layout",
    ),
    Setting(
        "leader_check_seconds",
        "HUBPULSE_LEADER_CHECK_SECONDS",
        f"{LEADER_CHECK_MAX_SECONDS:g}",
        "PostgreSQL: seconds between a scheduler's checks of the leader lock; a standby takes "
        "over from a leader that stopped within this",
        seconds(1, LEADER_CHECK_MAX_SECONDS),
    ),
    Setting(
        "orgs_file",
        "HUBPULSE_ORGS_FILE",
        None,
        "Org registry file or http(s) URL (our CSV or the ATOM `hf_org,region,notes` format) "
        "read at start, over the bundled registry",
    ),
)


def load_dotenv_file(path: Path = Path(".env")) -> None:
    """Read ``.env`` into the environment without overriding variables already set."""
    if path.is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


def _pairing_problems(values: Mapping[str, object]) -> list[str]:
    """Settings that only work together."""
    problems = []
    if bool(values["slack_client_id"]) != bool(values["slack_client_secret"]):
        problems.append(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: set both (multi-workspace OAuth) or neither."
        )
    if values["slack_client_id"] and not values["slack_signing_secret"]:
        problems.append("SLACK_SIGNING_SECRET: required with SLACK_CLIENT_ID (OAuth runs in HTTP).")
    if values["slack_app_token"] and not values["slack_bot_token"]:
        problems.append("SLACK_BOT_TOKEN: required with SLACK_APP_TOKEN (Socket Mode).")
    return problems


def default_database_url() -> str:
    """The embedded store: ``$XDG_DATA_HOME/hubpulse/hubpulse.db`` (``~/.local/share/...``)."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{base / 'hubpulse' / 'hubpulse.db'}"


def redact_url(url: str) -> str:
    """A database URL with its password hidden, safe for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    database_check: Callable[[str], str | None] | None = None,
) -> Settings:
    """Settings from the environment; every problem found is reported at once.

    Raises ConfigError whose message has one line per problem, each naming its variable.
    ``database_check`` (``bot.store.engine.database_problem``) is asked about the database URL,
    so an unreachable server is caught at start.
    """
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    problems: list[str] = []
    for setting in SETTINGS:
        raw = env.get(setting.env, "").strip() or setting.default
        if raw is None:
            values[setting.field] = None
            continue
        try:
            values[setting.field] = setting.parse(raw)
        except ValueError as exc:
            problems.append(f"{setting.env}: {exc}.")
            values[setting.field] = raw  # set, though wrong: pairing checks must see it
    values["database_url"] = values["database_url"] or default_database_url()
    problems += _pairing_problems(values)
    if database_check and not any(p.startswith("HUBPULSE_DATABASE_URL") for p in problems):
        problem = database_check(str(values["database_url"]))
        if problem:
            problems.append(problem)
    if problems:
        raise ConfigError("\n".join(problems))
    return Settings(**values)  # type: ignore[arg-type]


def slack_mode(settings: Settings) -> str | None:
    """How ``serve`` talks to Slack: ``oauth``, ``socket``, ``http``, or None (not set up)."""
    if settings.slack_client_id:
        return "oauth"
    if settings.slack_app_token:
        return "socket"
    if settings.slack_bot_token and settings.slack_signing_secret:
        return "http"
    return None


def slack_missing(settings: Settings) -> str | None:
    """What ``serve`` still needs to talk to Slack, naming the missing variables; None when a
    mode is complete."""
    if slack_mode(settings) is not None:
        return None
    if settings.slack_bot_token:
        return (
            "SLACK_BOT_TOKEN is set but not enough: add SLACK_SIGNING_SECRET (HTTP mode) or "
            "SLACK_APP_TOKEN (Socket Mode)"
        )
    if settings.slack_signing_secret:
        return (
            "SLACK_SIGNING_SECRET is set but not enough: add SLACK_BOT_TOKEN (HTTP mode, one "
            "workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (multi-workspace OAuth)"
        )
    return (
        "Slack is not configured: set SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or "
        "with SLACK_SIGNING_SECRET (HTTP), or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and "
        "SLACK_SIGNING_SECRET (multi-workspace OAuth)"
    )


def require_slack(settings: Settings) -> str:
    """The Slack mode, or ConfigError saying which variables ``serve`` still needs."""
    mode = slack_mode(settings)
    if mode is None:
        raise ConfigError(f"{slack_missing(settings)}.")
    return mode


def mask(name: str, value: str) -> str:
    """A secret reduced to its kind and length."""
    prefix = value.split("-", 1)[0] + "-" if value.startswith(("xox", "xapp")) else ""
    if name == "hf_token" and value.startswith("hf_"):
        prefix = "hf_"
    return f"{prefix}**** ({len(value)} chars)"


def masked(settings: Settings) -> dict[str, str]:
    """Settings for display, with secrets reduced to their kind and length."""
    shown = {}
    for item in fields(settings):
        value = getattr(settings, item.name)
        if value is None:
            shown[item.name] = "(not set)"
        elif item.name in SECRET_FIELDS:
            shown[item.name] = mask(item.name, str(value))
        elif item.name == "database_url":
            shown[item.name] = redact_url(str(value))
        elif isinstance(value, float):
            shown[item.name] = f"{value:g}"
        else:
            shown[item.name] = str(value)
    return shown


def settings_table() -> str:
    """The README's table of settings (Markdown), from ``SETTINGS``."""
    lines = ["| Variable | Default | What it does |", "|---|---|---|"]
    for setting in SETTINGS:
        default = setting.shown_default or (f"`{setting.default}`" if setting.default else "")
        lines.append(f"| `{setting.env}` | {default} | {setting.help} |")
    return "\n".join(lines)
