"""``/unsubscribe <org | family | country>``: stop this channel's alerts about it."""

from __future__ import annotations

from bot.answers.message import Answer
from bot.answers.render import render_message
from bot.channels import subscriptions
from bot.channels.channel import Channel
from bot.channels.subscriptions import Target
from bot.core.errors import UserError
from commands.args import parse_args
from commands.base import Command, Context
from commands.hubpulse import help_answer
from commands.where import channel_of


def find_target(text: str, context: Context, channel: Channel) -> Target | None:
    """The subscribed target ``text`` names: by key or label as stored (so a target that no
    longer resolves can still be removed), else by resolving the name."""
    low = " ".join(text.split()).lower()
    for subscription in subscriptions.for_channel(context.engine, channel):
        target = subscription.target
        if low in (target.key.lower(), target.label.lower()):
            return target
    try:
        return subscriptions.resolve_target(text, context.reader)
    except UserError:
        return None


def run(text: str, context: Context) -> Answer:
    args = parse_args(text)
    if args.help or not args.words:
        return help_answer(COMMAND)
    channel = channel_of(context)
    target = find_target(args.text, context, channel)
    removed = target is not None and subscriptions.unsubscribe(context.engine, channel, target)
    answer = render_message("unsubscribe.j2", removed=removed, target=target, words=args.text)
    if not removed:
        raise UserError(answer.text)
    answer.in_channel = True
    return answer


COMMAND = Command(
    name="/unsubscribe",
    summary="Stop this channel's alerts about an org, family or country.",
    usage="/unsubscribe <org | family | country>",
    examples=("/unsubscribe deepseek-ai", "/unsubscribe china"),
    run=run,
    details="`/subscriptions` lists what this channel follows.",
)
