"""``/subscriptions`` (and ``/subscribe list``): what this channel follows, in the channel."""

from __future__ import annotations

from bot.answers.message import Answer
from bot.answers.render import render_message
from bot.channels import digest_schedule, subscriptions
from bot.channels.subscriptions import Features, describe_features, feature_word
from commands.args import bad_argument, parse_args, usage_error
from commands.base import Command, Context
from commands.hubpulse import help_answer
from commands.where import channel_of

FEATURE_CHOICE = "a feature (`releases`, `share` or `all`)"


def named_features(command: Command, word: str) -> Features:
    """The features ``word`` names; else the command's usage, saying what was wrong."""
    features = feature_word(word)
    if features is None:
        raise bad_argument(command, word, FEATURE_CHOICE)
    return features


def list_answer(context: Context, features: Features | None = None) -> Answer:
    """The channel's subscriptions alphabetically, with settings and who added them, and
    its digest; ``features`` keeps only subscriptions that include one of those features."""
    channel = channel_of(context)
    found = subscriptions.for_channel(context.engine, channel)
    if features is not None:
        found = [s for s in found if s.features & features]
    answer = render_message(
        "subscriptions.j2",
        found=found,
        features=describe_features(features) if features else "",
        digest=digest_schedule.get(context.engine, channel),
    )
    answer.in_channel = True
    return answer


def run(text: str, context: Context) -> Answer:
    args = parse_args(text)
    if args.help:
        return help_answer(COMMAND)
    if len(args.words) > 1:
        raise usage_error(COMMAND, "Name at most one feature.")
    if not args.words:
        return list_answer(context)
    return list_answer(context, named_features(COMMAND, args.words[0]))


COMMAND = Command(
    name="/subscriptions",
    summary="List what this channel follows: subscriptions and the weekly digest.",
    usage="/subscriptions [releases | share | all]",
    examples=("/subscriptions", "/subscriptions share"),
    run=run,
    details="The same as `/subscribe list`. The list is posted in the channel.",
)
