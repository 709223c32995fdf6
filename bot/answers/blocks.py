"""Block Kit messages from a template's text layout, always within Slack's limits.

A template writes mrkdwn text in which directive lines start new blocks::

    ::header Hub download share    a header (plain text, at most 150 characters)
    ::section                      a section: the lines after it are its text
    ::field                        one field of a two-column section (10 to a section)
    ::context                      a context block: each line after it is one element
    ::divider                      a divider

Text before any directive is a section. The blocks are built with slack_sdk's block models,
whose validation checks Slack's limits; anything over a limit is split or trimmed with an
"and N more" line instead of being refused. Slack's Block Kit limits are declared here, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.answers.message import Answer

MAX_BLOCKS = 50
VIEW_BLOCKS = 100  # in modals and the App Home
SECTION_CHARS = 3000
FIELD_CHARS = 2000
FIELDS_PER_SECTION = 10
HEADER_CHARS = 150
CONTEXT_ELEMENTS = 10
IMAGE_TEXT_CHARS = 2000  # an image block's title and alt text
BUTTON_VALUE_CHARS = 2000
TEXT_CHARS = 40_000
KINDS = ("header", "section", "field", "context", "divider")


@dataclass
class _Part:
    kind: str
    lines: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.lines).strip("\n")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_layout(rendered: str) -> list[_Part]:
    parts: list[_Part] = []
    for line in rendered.splitlines():
        if line.startswith("::"):
            kind, _, rest = line[2:].partition(" ")
            if kind not in KINDS:
                raise ValueError(f"unknown layout directive ::{kind}")
            parts.append(_Part(kind, [rest] if rest.strip() else []))
        elif parts:
            parts[-1].lines.append(line)
        else:
            parts.append(_Part("section", [line]))
    return parts


def _split_text(text: str, limit: int) -> Iterator[str]:
    """Chunks of at most ``limit`` characters, cut at line ends."""
    chunk: list[str] = []
    size = 0
    for line in text.split("\n"):
        line = clip(line, limit)
        if chunk and size + 1 + len(line) > limit:
            yield "\n".join(chunk)
            chunk, size = [], 0
        size += len(line) + (1 if chunk else 0)
        chunk.append(line)
    if chunk:
        yield "\n".join(chunk)


def _sections(text: str) -> list[tuple[Block, str, int]]:
    """``text`` as sections cut at line ends, each with its text and its number of lines."""
    if not text.strip():
        return []
    return [
        (SectionBlock(text=MarkdownTextObject(text=chunk)), chunk, chunk.count("\n") + 1)
        for chunk in _split_text(text, SECTION_CHARS)
    ]


def text_blocks(text: str) -> list[dict[str, Any]]:
    """Plain mrkdwn ``text`` (no layout directives) as sections within Slack's limits."""
    return [block.to_dict() for block, _, _ in _sections(text)]


def _blocks(parts: list[_Part]) -> list[tuple[Block, str, int]]:
    """Each block with its fallback text and its number of lines."""
    built: list[tuple[Block, str, int]] = []
    fields: list[str] = []

    def flush_fields() -> None:
        for start in range(0, len(fields), FIELDS_PER_SECTION):
            group = fields[start : start + FIELDS_PER_SECTION]
            block = SectionBlock(fields=[MarkdownTextObject(text=f) for f in group])
            built.append((block, "\n".join(group), len(group)))
        fields.clear()

    for part in parts:
        text = part.text()
        if part.kind == "field":
            if text.strip():
                fields.append(clip(text, FIELD_CHARS))
            continue
        flush_fields()
        if part.kind == "divider":
            built.append((DividerBlock(), "", 0))
        elif not text.strip():
            continue
        elif part.kind == "header":
            title = clip(" ".join(text.split()), HEADER_CHARS)
            built.append((HeaderBlock(text=PlainTextObject(text=title)), f"*{title}*", 1))
        elif part.kind == "context":
            elements = [line.strip() for line in text.split("\n") if line.strip()]
            if len(elements) > CONTEXT_ELEMENTS:
                hidden = len(elements) - CONTEXT_ELEMENTS + 1
                elements = [*elements[: CONTEXT_ELEMENTS - 1], f"…and {hidden} more"]
            elements = [clip(e, SECTION_CHARS) for e in elements]
            context = ContextBlock(elements=[MarkdownTextObject(text=e) for e in elements])
            built.append((context, "\n".join(elements), len(elements)))
        else:
            built += _sections(text)
    flush_fields()
    return built


def build_message(rendered: str, max_blocks: int = MAX_BLOCKS) -> Answer:
    """Validated Block Kit blocks and the text fallback for a rendered layout."""
    built = _blocks(parse_layout(rendered))
    if len(built) > max_blocks:
        kept, dropped = built[: max_blocks - 1], built[max_blocks - 1 :]
        more = f"…and {sum(lines for _, _, lines in dropped)} more lines not shown"
        built = [*kept, (ContextBlock(elements=[MarkdownTextObject(text=more)]), more, 1)]
    blocks = [block.to_dict() for block, _, _ in built]
    text = "\n".join(text for _, text, _ in built).strip("\n")
    return Answer(clip(text, TEXT_CHARS), blocks)
