"""``/unsubscribe <org | family | country> [releases] [share] [all]``: stop this channel's
alerts about a target, or only some of them (GitHub's Slack app does the same); removing
the last feature removes the subscription."""

from __future__ import annotations

from bot.answers.message import Answer
from bot.answers.render import render_message
from bot.channels import subscriptions
from bot.channels.channel import Channel
from bot.channels.subscriptions import EVERY_FEATURE, Target, describe_features, split_features
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
    target_text, named = split_features(args.words)
    features = named or EVERY_FEATURE
    target = find_target(target_text, context, channel)
    now = context.reader.clock.now()
    removal = (
        subscriptions.unsubscribe(context.engine, channel, target, now, features)
        if target is not None
        else None
    )
    if removal is None:
        current = subscriptions.get(context.engine, channel, target) if target else None
        answer = render_message(
            "unsubscribe.j2",
            removal=None,
            current=current,
            asked=describe_features(features),
            words=target_text,
        )
        raise UserError(answer.text)
    removed = describe_features(removal.before & features)
    answer = render_message("unsubscribe.j2", removal=removal, removed=removed)
    answer.in_channel = True
    return answer


COMMAND = Command(
    name="/unsubscribe",
    summary="Stop this channel's alerts about an org, family or country, or only some of them.",
    usage="/unsubscribe <org | family | country> [releases] [share] [all]",
    examples=("/unsubscribe deepseek-ai", "/unsubscribe qwen share", "/unsubscribe china"),
    run=run,
    details=(
        "With no feature, every alert about the target stops. `share` or `releases` removes "
        "only that feature; removing the last removes the subscription. `/subscriptions` "
        "lists what this channel follows."
    ),
)
