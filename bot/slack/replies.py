"""Posting a command's ``Answer`` to Slack: ephemeral through ``response_url``, or in channel.

An ephemeral answer's chart is uploaded privately (``files_upload_v2`` without a channel) and
shown through an image block that references the file, so nothing becomes public; if Slack
refuses that block the text is sent alone. A channel post is ``chat.postMessage`` followed by
the chart uploaded to the channel. When the bot may not post in the conversation (not a
member, a private channel, a DM), the answer still arrives through ``response_url``, with a
hint to invite the bot.

Both ways retry 429s, 5xx and connection errors (the clients' ``patient_handlers``). When
Slack still will not take a channel post, the answer goes privately through ``response_url``
under ``SLACK_BUSY``; each answer is counted in ``/metrics`` as delivered, fallback or lost.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ImageBlock

from bot.answers.blocks import IMAGE_TEXT_CHARS, MAX_BLOCKS, text_blocks
from bot.answers.message import Answer, Chart
from bot.channels.outcome import OUTAGE
from bot.delivery.sender import classify
from bot.ops.metrics import DELIVERED, FALLBACK, LOST, observe_answer
from bot.slackapi.clients import Responder, error_code

log = logging.getLogger(__name__)

CHART_FILENAME = "hubpulse-chart.png"
#: chat.postMessage errors meaning "this bot cannot post in that conversation".
CANNOT_POST = frozenset({"not_in_channel", "channel_not_found"})
INVITE_HINT = (
    "I can't post in this conversation myself, so the answer came through Slack without its "
    "chart. Invite me with `/invite @hubpulse` to get charts (and subscriptions) here."
)
SLACK_BUSY = "Slack was busy, here is your answer (only you can see it):"

Block = dict[str, Any]


def body_blocks(answer: Answer, tail: list[Block]) -> list[Block]:
    """The answer's blocks (or its text as sections) then ``tail``, at most 50 in all."""
    blocks = answer.blocks or text_blocks(answer.text)
    return [*blocks[: MAX_BLOCKS - len(tail)], *tail]


def _chart_title(chart: Chart) -> str:
    return (chart.title or "Chart")[:IMAGE_TEXT_CHARS]


def _upload(client: WebClient, chart: Chart, channel: str | None = None) -> Any:
    """Upload ``chart`` to ``channel`` (or visible only to the bot); None if Slack refused."""
    try:
        return client.files_upload_v2(
            channel=channel,
            content=chart.png,
            filename=CHART_FILENAME,
            title=_chart_title(chart),
            alt_txt=chart.alt_text[:IMAGE_TEXT_CHARS],
        )
    except SlackApiError:
        return None  # logged by the client


def private_chart_block(client: WebClient, chart: Chart) -> Block | None:
    """Upload ``chart`` visible only to the bot and return an image block showing it."""
    uploaded = _upload(client, chart)
    if uploaded is None:
        return None  # the answer goes out as text
    file_id = str(uploaded["file"]["id"])
    return ImageBlock(
        slack_file={"id": file_id},
        alt_text=(chart.alt_text or _chart_title(chart))[:IMAGE_TEXT_CHARS],
        title=_chart_title(chart),
    ).to_dict()


def _sent(respond: Responder, what: str, **message: Any) -> bool:
    """Post ``message`` to the ``response_url``; whether Slack took it (failures logged)."""
    try:
        response = respond(**message)
    except OSError as exc:  # the connection failed, retries included
        log.warning("response_url unreachable for %s: %s", what, type(exc).__name__)
        return False
    if response.status_code == 200:
        return True
    log.warning("response_url refused %s: HTTP %s %s", what, response.status_code, response.body)
    return False


def send_ephemeral(
    answer: Answer, *, client: WebClient, respond: Responder, tail: list[Block]
) -> None:
    """Only the person who asked sees it; ``tail`` (the Share button) goes last."""
    chart = private_chart_block(client, answer.chart) if answer.chart else None
    sent = False
    if chart is not None:
        blocks = body_blocks(answer, [chart, *tail])
        sent = _sent(
            respond,
            "the answer with its chart",
            text=answer.text,
            blocks=blocks,
            response_type="ephemeral",
        )
    if not sent:
        blocks = body_blocks(answer, tail)
        sent = _sent(
            respond, "the answer", text=answer.text, blocks=blocks, response_type="ephemeral"
        )
    observe_answer(DELIVERED if sent else LOST)


def post_in_channel(
    answer: Answer, *, client: WebClient, respond: Responder, channel_id: str
) -> None:
    """Post in the conversation; if the bot may not, or Slack will not take the post,
    answer through ``response_url``."""
    blocks = body_blocks(answer, [])
    try:
        client.chat_postMessage(channel=channel_id, text=answer.text, blocks=blocks)
    except (SlackApiError, OSError) as exc:
        if isinstance(exc, SlackApiError) and error_code(exc) in CANNOT_POST:
            sent = _sent(
                respond, "the answer", text=answer.text, blocks=blocks, response_type="in_channel"
            )
            _sent(respond, "the invite hint", text=INVITE_HINT, response_type="ephemeral")
            observe_answer(DELIVERED if sent else LOST)
            return
        reason, code = classify(exc)
        if reason != OUTAGE:
            raise
        log.warning("Slack would not take a channel answer (%s); sending it privately", code)
        busy = {"type": "context", "elements": [{"type": "mrkdwn", "text": SLACK_BUSY}]}
        sent = _sent(
            respond,
            "the answer Slack would not post",
            text=f"{SLACK_BUSY}\n{answer.text}",
            blocks=[busy, *blocks[: MAX_BLOCKS - 1]],
            response_type="ephemeral",
            replace_original=False,
        )
        observe_answer(FALLBACK if sent else LOST)
        return
    observe_answer(DELIVERED)
    if answer.chart is not None:
        _upload(client, answer.chart, channel_id)  # if refused, the text is in the channel
