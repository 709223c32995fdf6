"""Logs operators can search: one JSON object a line, or readable text, and never a secret.

``configure_logging`` installs one handler on the root logger. Its ``RedactingFilter`` rewrites
every record that reaches it (from hubpulse, slack_bolt, urllib3, anything) so that Slack tokens,
Hub tokens and the configured secrets are replaced by ``[redacted]`` before any formatting.
Libraries that print through handlers of their own (huggingface_hub) are sent to it instead.

Slack's libraries print whole request and response bodies below WARNING (Bolt's request
verification logs the body of every request it refuses, at INFO; slack_sdk logs API bodies at
DEBUG): unless the level is DEBUG, their records below WARNING are dropped.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any

from huggingface_hub.utils import logging as hf_logging

REDACTED = "[redacted]"
TOKEN_PATTERN = re.compile(
    r"xox[abpres]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|hf_[A-Za-z0-9]{8,}|"
    r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"
)
"""Slack bot/user/app tokens, Hub tokens, and ``user:password`` in URLs."""

_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)
COMMAND_LOGGER = "hubpulse.commands"
BOLT_APP_LOGGER = "hubpulse.slack"
"""The name hubpulse's Bolt app logs under (``bot.slack.app.BOLT_LOGGER``)."""
SLACK_LIBRARY_LOGGERS = ("slack_bolt", "slack_sdk", BOLT_APP_LOGGER)
"""Loggers (with their children) that may print a request or response body below WARNING."""


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every token-shaped string and every given secret replaced."""
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return TOKEN_PATTERN.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, arguments, traceback and extra fields without secrets."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        for key, value in extra_fields(record).items():
            if isinstance(value, str):
                setattr(record, key, redact(value, self.secrets))
        return True


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """What the caller passed with ``extra=``."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRIBUTES}


class QuietSlackLibraries(logging.Filter):
    """Drops the records of ``SLACK_LIBRARY_LOGGERS`` below WARNING.

    Setting those loggers' levels is not enough on its own: Bolt copies a level onto each of
    its loggers when the app is built (``slack_bolt.RequestVerification``, and
    ``hubpulse.slack:...`` names that are no children of ``hubpulse.slack``), so the handler
    checks every record whatever logger it comes from.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not is_slack_library(record.name)


def is_slack_library(name: str) -> bool:
    return any(
        name == root or name.startswith((f"{root}.", f"{root}:")) for root in SLACK_LIBRARY_LOGGERS
    )


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, extra fields, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            body[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            body["traceback"] = record.exc_text
        return json.dumps(body, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Readable lines; extra fields follow the message as ``key=value``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        extras = " ".join(f"{k}={v}" for k, v in extra_fields(record).items())
        return f"{line} {extras}" if extras else line


def configure_logging(
    log_format: str = "text",
    level: str = "INFO",
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Replace the root logger's handlers with one redacting handler; returns that handler.

    huggingface_hub adds a stderr handler of its own to its logger when it is imported, which no
    redaction sees and which would print each of its records a second time (raw, and never as
    JSON): it is removed, and the library's records propagate to the root handler. Its level
    (WARNING unless ``HF_HUB_VERBOSITY`` says otherwise) is left to the caller. Below DEBUG,
    Slack's libraries log only warnings and errors (``QuietSlackLibraries``).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RedactingFilter(secrets))
    quiet = logging.getLevelNamesMapping().get(level.upper(), logging.INFO) > logging.DEBUG
    if quiet:
        handler.addFilter(QuietSlackLibraries())
    for name in SLACK_LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    hub_logger = hf_logging.get_logger()
    for own in list(hub_logger.handlers):
        hub_logger.removeHandler(own)
    hf_logging.enable_propagation()
    return handler


def log_command(
    command: str,
    *,
    team_id: str,
    latency_ms: float,
    outcome: str,
    logger: logging.Logger | None = None,
    **fields: str | int | float | None,
) -> None:
    """One event per handled command: what ran, for which workspace, how long, how it ended.

    ``outcome`` is ``ok``, ``user_error`` (an expected problem shown to the user) or ``error``.
    """
    level = logging.ERROR if outcome == "error" else logging.INFO
    (logger or logging.getLogger(COMMAND_LOGGER)).log(
        level,
        "%s %s in %.0f ms",
        command,
        outcome,
        latency_ms,
        extra={
            "command": command,
            "team_id": team_id,
            "latency_ms": round(latency_ms, 1),
            "outcome": outcome,
            **fields,
        },
    )
