"""``/subscribe <org | family | country> [releases] [share] [all]``: alerts in this channel.

Features add up, as in GitHub's Slack app: ``/subscribe qwen share`` after ``/subscribe qwen``
adds share moves, and ``/subscribe qwen`` (no feature) adds the default, new releases, keeping
whatever else is on; a paused subscription resumes. ``/subscribe list`` lists the channel's
subscriptions. Confirmations are posted in the channel, so everyone there knows what it
follows; mistakes come back privately.
"""

from __future__ import annotations

from bot.answers.message import Answer
from bot.answers.mrkdwn import echo
from bot.answers.render import render_message
from bot.channels import subscriptions
from bot.channels.subscriptions import (
    CREATED,
    DEFAULT_FEATURES,
    UNCHANGED,
    Target,
    describe_features,
    split_features,
)
from bot.core.errors import UserError
from bot.model.aggregates import PUBLISHER
from bot.store.reader import Reader
from commands.args import parse_args, usage_error
from commands.base import Command, Context
from commands.hubpulse import help_answer
from commands.subscriptions import list_answer, named_features
from commands.where import channel_of


def current_share(reader: Reader, target: Target) -> tuple[float, int] | None:
    """The target's publisher share now: the baseline its share alerts measure from."""
    snapshot = reader.latest_or_none()
    if snapshot is None:
        return None
    row = reader.aggregate(snapshot.id, PUBLISHER, target.kind, target.key)
    return (row.share if row else 0.0, snapshot.id)


def listing(words: tuple[str, ...], context: Context) -> Answer:
    """``/subscribe list [feature]``."""
    if len(words) > 2:
        raise usage_error(COMMAND, f"{echo(words[2])} is extra: `list` takes one feature.")
    if len(words) == 1:
        return list_answer(context)
    return list_answer(context, named_features(COMMAND, words[1]))


def run(text: str, context: Context) -> Answer:
    args = parse_args(text)
    if args.help or not args.words:
        return help_answer(COMMAND)
    if args.words[0].lower() == "list":
        return listing(args.words, context)
    channel = channel_of(context)
    target_text, named = split_features(args.words)
    features = named or DEFAULT_FEATURES
    target = subscriptions.resolve_target(target_text, context.reader)
    share = current_share(context.reader, target)
    now = context.reader.clock.now()
    change = subscriptions.subscribe(
        context.engine, channel, target, features, context.user_id, now, share=share
    )
    added = change.subscription.features - (change.previous_features or frozenset())
    answer = render_message(
        "subscribe.j2",
        subscription=change.subscription,
        already=change.outcome == UNCHANGED,
        created=change.outcome == CREATED,
        added=describe_features(added) if change.previous_features else "",
        user_id=context.user_id,
    )
    if change.outcome == UNCHANGED:
        raise UserError(answer.text)
    answer.in_channel = True
    return answer


COMMAND = Command(
    name="/subscribe",
    summary="Get new releases (and/or share moves) of an org, family or country in this channel.",
    usage="/subscribe <org | family | country | list> [releases] [share] [all]",
    examples=(
        "/subscribe deepseek-ai",
        "/subscribe qwen releases share",
        "/subscribe china share",
        "/subscribe list",
    ),
    run=run,
    details=(
        "`releases` (the default): one message per refresh listing the target's new models. "
        "`share`: a message when its share of Hub downloads moves by the alert threshold. "
        "`all`: both. Features add up: subscribing again adds the ones you name and keeps the "
        "rest; `/unsubscribe <target> share` removes one, `/unsubscribe <target>` all. "
        "`/subscribe list` shows what this channel follows."
    ),
)
