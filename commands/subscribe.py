"""``/subscribe <org | family | country> [releases | share | all]``: alerts in this channel.

Subscribing again updates the features (and resumes a paused subscription); ``/subscribe
list`` lists the channel's subscriptions. Confirmations are posted in the channel, so everyone
there knows what it follows; mistakes come back privately.
"""

from __future__ import annotations

from bot.answers.message import Answer
from bot.answers.render import render_message
from bot.channels import subscriptions
from bot.channels.subscriptions import CREATED, FEATURES, UNCHANGED, Target
from bot.core.errors import UserError
from bot.model.aggregates import PUBLISHER
from bot.store.reader import Reader
from commands.args import parse_args, usage_error
from commands.base import Command, Context
from commands.hubpulse import help_answer
from commands.subscriptions import list_answer
from commands.where import channel_of


def split_features(words: tuple[str, ...]) -> tuple[str, str]:
    """(target text, features): a trailing ``releases``/``share``/``all`` names features."""
    if len(words) > 1 and words[-1].lower() in FEATURES:
        return " ".join(words[:-1]), words[-1].lower()
    return " ".join(words), subscriptions.RELEASES


def current_share(reader: Reader, target: Target) -> tuple[float, int] | None:
    """The target's publisher share now: the baseline its share alerts measure from."""
    snapshot = reader.latest_or_none()
    if snapshot is None:
        return None
    row = reader.aggregate(snapshot.id, PUBLISHER, target.kind, target.key)
    return (row.share if row else 0.0, snapshot.id)


def run(text: str, context: Context) -> Answer:
    args = parse_args(text)
    if args.help or not args.words:
        return help_answer(COMMAND)
    if args.words[0].lower() == "list":
        if len(args.words) > 2:
            raise usage_error(COMMAND)
        features = subscriptions.parse_features(args.words[1]) if len(args.words) == 2 else None
        return list_answer(context, features)
    channel = channel_of(context)
    target_text, features = split_features(args.words)
    target = subscriptions.resolve_target(target_text, context.reader)
    share = current_share(context.reader, target)
    now = context.reader.clock.now()
    change = subscriptions.subscribe(
        context.engine, channel, target, features, context.user_id, now, share=share
    )
    answer = render_message(
        "subscribe.j2",
        subscription=change.subscription,
        already=change.outcome == UNCHANGED,
        created=change.outcome == CREATED,
        user_id=context.user_id,
    )
    if change.outcome == UNCHANGED:
        raise UserError(answer.text)
    answer.in_channel = True
    return answer


COMMAND = Command(
    name="/subscribe",
    summary="Get new releases (and/or share moves) of an org, family or country in this channel.",
    usage="/subscribe <org | family | country | list> [releases | share | all]",
    examples=("/subscribe deepseek-ai", "/subscribe qwen all", "/subscribe china share"),
    run=run,
    details=(
        "`releases` (the default): one message per refresh listing the target's new models. "
        "`share`: a message when its share of Hub downloads moves by the alert threshold. "
        "`all`: both. Subscribing again changes the features; `/unsubscribe` stops; "
        "`/subscribe list` shows what this channel follows."
    ),
)
