"""Slack mrkdwn: escaping text, quoting a user's words back, and undoing the escape.

Slack's mrkdwn needs only ``&``, ``<`` and ``>`` escaped (HTML escaping would also mangle
quotes); unescaped, ``<!channel>`` or ``<@U123>`` in bot output pings people.
"""

from __future__ import annotations

import unicodedata

ECHO_LIMIT = 80


class Mrkdwn(str):
    """Text that is already safe mrkdwn: not escaped again."""

    __slots__ = ()


def escape(value: object) -> Mrkdwn:
    """Escape for Slack mrkdwn: ``&`` first, then ``<`` and ``>``; nothing else."""
    if isinstance(value, Mrkdwn):
        return value
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Mrkdwn(text)


def unescape(text: str) -> str:
    """The inverse of ``escape``."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def inline(value: str, limit: int = ECHO_LIMIT) -> Mrkdwn:
    """A user's words for inside a code span: escaped, one line, at most ``limit`` characters.

    Backticks (they would end the code span) become quotes; invisible format characters such
    as right-to-left overrides (they could disguise the rest of the message) are dropped.
    """
    visible = "".join(c for c in value if unicodedata.category(c) != "Cf")
    text = " ".join(visible.replace("`", "'").split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape(text)


def echo(value: str, limit: int = ECHO_LIMIT) -> Mrkdwn:
    """A user's words quoted back as inline code (see ``inline``)."""
    return Mrkdwn(f"`{inline(value, limit)}`")
