"""Logging for a person at a terminal, shared by the verbs that talk to the Hub for long."""

from __future__ import annotations

import logging
import re
from collections import Counter

from huggingface_hub.utils import logging as hf_logging

from bot.answers.mrkdwn import unescape
from bot.core.logs import configure_logging
from bot.core.settings import Settings

OWN_LOGGERS = frozenset({"bot", "hubpulse"})
log = logging.getLogger(__name__)

SLACK_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
"""Slack's angle-bracket markup: ``<url|text>``, ``<url>``, ``<@U123>``, ``<#C123|name>``,
``<!here>``. Text from users and the Hub is escaped (``&lt;``), so it never matches."""


def _plain_markup(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith(("@", "#")):
        return target[0] + label if label else target
    if target.startswith("!"):
        return label or "@" + target[1:].split("^", 1)[0]
    if not label or label == target:
        return target
    return f"{label} ({target})"


def plain_text(mrkdwn: str) -> str:
    """A Slack mrkdwn answer for a terminal: links as ``text (url)``, mentions as ``@U123``,
    and Slack's escapes undone (markup first: an unescaped ``<`` is the user's own text)."""
    return unescape(SLACK_MARKUP.sub(_plain_markup, mrkdwn))


class HeldBack(logging.Filter):
    """Keeps other libraries' records below ERROR off the terminal, counting their warnings.

    huggingface_hub warns twice for every retry of a listing ("HTTP Error 500 thrown while
    requesting ...", "Retrying in 1s [Retry 1/5]."), which would bury the one line a failed
    refresh prints; that line already says "(after retries)". A refresh that succeeds ends with
    one warning saying what was held back (:meth:`report`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.warnings: Counter[str] = Counter()
        self.last = ""

    def filter(self, record: logging.LogRecord) -> bool:
        library = record.name.partition(".")[0]
        if record.levelno >= logging.ERROR or library in OWN_LOGGERS:
            return True
        if record.levelno >= logging.WARNING:
            self.warnings[library] += 1
            self.last = record.getMessage()
        return False

    def report(self) -> None:
        if self.warnings:
            held = ", ".join(f"{n} from {library}" for library, n in sorted(self.warnings.items()))
            log.warning(
                "held back warnings (%s), HUBPULSE_LOG_LEVEL=DEBUG shows them; the last: %s",
                held,
                self.last,
            )


def configure_cli_logging(config: Settings) -> HeldBack | None:
    """The redacting handler on stderr, for a person at a terminal: hubpulse's warnings at the
    default level INFO (the summary line says the rest), everything at DEBUG. Below DEBUG, other
    libraries' chatter is held back; the returned filter counts it."""
    debug = config.log_level == "DEBUG"
    level = "WARNING" if config.log_level == "INFO" else config.log_level
    handler = configure_logging(config.log_format, level, secrets=config.secrets)
    hf_logging.set_verbosity(hf_logging.DEBUG if debug else hf_logging.WARNING)
    if debug:
        return None
    held = HeldBack()
    handler.addFilter(held)
    return held
