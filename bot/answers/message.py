"""What every answer, digest and alert is before it reaches Slack: a message and its chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Chart:
    png: bytes
    title: str
    alt_text: str


@dataclass
class Answer:
    """A finished message: ``text`` is the mrkdwn fallback (and what ``hubpulse ask`` prints),
    ``blocks`` the Block Kit body, ``in_channel`` whether it is posted for everyone."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    chart: Chart | None = None
    in_channel: bool = False

    def payload(self) -> dict[str, Any]:
        """The Slack message payload (``text`` plus ``blocks``)."""
        body: dict[str, Any] = {"text": self.text}
        if self.blocks:
            body["blocks"] = self.blocks
        return body
