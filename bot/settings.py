"""Configuration: environment variables (and an optional ``.env`` file), checked at start.

Every setting has one name, one default and one check here; the README's settings table is
written from ``SETTINGS``. Secrets are masked whenever settings are shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from bot.db import default_database_url
from bot.errors import ConfigError

SECRET_FIELDS = frozenset(
    {
        "hf_token",
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
        "slack_client_secret",
    }
)


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


@dataclass(frozen=True)
class Setting:
    field: str
    env: str
    default: str | None
    help: str


SETTINGS = (
    Setting(
        "database_url", "HUBPULSE_DATABASE_URL", None, "Database URL; default: embedded SQLite"
    ),
    Setting("hf_endpoint", "HF_ENDPOINT", "https://huggingface.co", "Hugging Face Hub endpoint"),
    Setting("hf_token", "HF_TOKEN", None, "Hub token (optional; raises the Hub's rate limit)"),
    Setting("top_n", "HUBPULSE_TOP_N", "20000", "Models in each snapshot's share denominator"),
    Setting("slack_bot_token", "SLACK_BOT_TOKEN", None, "Bot token (xoxb-), single workspace"),
    Setting("slack_app_token", "SLACK_APP_TOKEN", None, "App-level token (xapp-): Socket Mode"),
    Setting("slack_signing_secret", "SLACK_SIGNING_SECRET", None, "Signing secret, HTTP mode"),
    Setting("slack_client_id", "SLACK_CLIENT_ID", None, "OAuth client id, multi-workspace"),
    Setting("slack_client_secret", "SLACK_CLIENT_SECRET", None, "OAuth client secret"),
    Setting("slack_api_url", "SLACK_API_URL", "https://slack.com/api/", "Slack Web API base URL"),
    Setting("log_format", "HUBPULSE_LOG_FORMAT", "text", "text or json"),
    Setting("log_level", "HUBPULSE_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR"),
)


def load_dotenv_file(path: Path = Path(".env")) -> None:
    """Read ``.env`` into the environment without overriding variables already set."""
    if path.is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment; every problem found is reported at once."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    problems: list[str] = []
    for setting in SETTINGS:
        raw = env.get(setting.env, "").strip() or setting.default
        values[setting.field] = raw or None
    values["database_url"] = values["database_url"] or default_database_url()
    try:
        top_n = int(str(values["top_n"]))
        if not 1 <= top_n <= 1_000_000:
            raise ValueError
        values["top_n"] = top_n
    except ValueError:
        problems.append("HUBPULSE_TOP_N must be a whole number between 1 and 1,000,000.")
        values["top_n"] = 20000
    if values["log_format"] not in ("text", "json"):
        problems.append("HUBPULSE_LOG_FORMAT must be text or json.")
    if str(values["log_level"]).upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append("HUBPULSE_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR.")
    values["log_level"] = str(values["log_level"]).upper()
    if problems:
        raise ConfigError("\n".join(problems))
    return Settings(**values)  # type: ignore[arg-type]


def masked(settings: Settings) -> dict[str, str]:
    """Settings for display, with secrets reduced to their kind and length."""
    shown = {}
    for item in fields(settings):
        value = getattr(settings, item.name)
        if value is None:
            shown[item.name] = "(not set)"
        elif item.name in SECRET_FIELDS:
            text = str(value)
            prefix = text.split("-", 1)[0] + "-" if text.startswith(("xox", "xapp", "hf_")) else ""
            shown[item.name] = f"{prefix}**** ({len(text)} chars)"
        else:
            shown[item.name] = str(value)
    return shown
