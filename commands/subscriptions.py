"""``/subscriptions`` (and ``/subscribe list``): what this channel follows, in the channel."""

from __future__ import annotations

from bot.answers.message import Answer
from bot.answers.render import render_message
from bot.channels import digest_schedule, subscriptions
from commands.args import parse_args, usage_error
from commands.base import Command, Context
from commands.hubpulse import help_answer
from commands.where import channel_of


def list_answer(context: Context, features: str | None = None) -> Answer:
    """The channel's subscriptions alphabetically, with settings and who added them, and
    its digest; ``features`` keeps only subscriptions that include those features."""
    channel = channel_of(context)
    found = subscriptions.for_channel(context.engine, channel)
    if features == subscriptions.RELEASES:
        found = [s for s in found if s.wants_releases]
    elif features == subscriptions.SHARE:
        found = [s for s in found if s.wants_share]
    answer = render_message(
        "subscriptions.j2",
        found=found,
        features=features,
        digest=digest_schedule.get(context.engine, channel),
    )
    answer.in_channel = True
    return answer


def run(text: str, context: Context) -> Answer:
    args = parse_args(text)
    if args.help:
        return help_answer(COMMAND)
    if len(args.words) > 1:
        raise usage_error(COMMAND)
    features = subscriptions.parse_features(args.words[0]) if args.words else None
    return list_answer(context, features)


COMMAND = Command(
    name="/subscriptions",
    summary="List what this channel follows: subscriptions and the weekly digest.",
    usage="/subscriptions [releases | share | all]",
    examples=("/subscriptions",),
    run=run,
    details="The same as `/subscribe list`. The list is posted in the channel.",
)
