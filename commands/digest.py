"""``/digest on [weekday] [HH:MM] [timezone] | off | preview | status``: this channel's
weekly digest of the open-model landscape."""

from __future__ import annotations

from bot.answers.message import Answer
from bot.answers.render import render_message
from bot.channels import digest, digest_schedule
from bot.channels import ledger as delivery
from bot.core.errors import UserError
from commands.args import parse_args, usage_error
from commands.base import Command, Context
from commands.hubpulse import help_answer
from commands.where import channel_of


def turn_on(words: tuple[str, ...], context: Context) -> Answer:
    channel = channel_of(context)
    fallback = context.user_tz or context.default_timezone
    weekday, time, zone = digest_schedule.parse_schedule(list(words), fallback)
    now = context.reader.clock.now()
    config = digest_schedule.enable(
        context.engine, channel, weekday, time, zone, context.user_id, now
    )
    answer = render_message("digest_on.j2", config=config, next_run=config.next_run(now))
    answer.in_channel = True
    return answer


def turn_off(context: Context) -> Answer:
    channel = channel_of(context)
    was_on = digest_schedule.disable(context.engine, channel, context.reader.clock.now())
    answer = render_message("digest_off.j2", was_on=was_on)
    if not was_on:
        raise UserError(answer.text)
    answer.in_channel = True
    return answer


def preview(context: Context) -> Answer:
    """The digest as it would read now, from the cache, for the person who asked."""
    reader = context.reader
    snapshot = reader.latest()
    config = (
        digest_schedule.get(context.engine, channel_of(context)) if context.channel_id else None
    )
    last = config.last_snapshot_id if config else None
    baseline = digest.baseline_for(reader, snapshot, last)
    content = digest.build(reader, snapshot, baseline, first=last is None)
    body = digest.payload(content)
    chart = digest.chart(reader, snapshot.id) if context.want_chart else None
    return Answer(body["text"], body["blocks"], chart)


def status(context: Context) -> Answer:
    channel = channel_of(context)
    config = digest_schedule.get(context.engine, channel)
    last = next_run = None
    if config is not None and config.last_period:
        last = delivery.find(context.engine, channel, delivery.DIGEST, config.last_period)
    if config is not None and config.enabled and not config.paused_reason:
        next_run = config.next_run(context.reader.clock.now())
    return render_message(
        "digest_status.j2",
        config=config,
        next_run=next_run,
        last_delivery=last,
        retrying=last is not None and last.status == delivery.PENDING,
    )


def run(text: str, context: Context) -> Answer:
    args = parse_args(text)
    if args.help or not args.words:
        return help_answer(COMMAND)
    verb, rest = args.words[0].lower(), args.words[1:]
    if verb == "on":
        return turn_on(rest, context)
    if rest:
        raise usage_error(COMMAND)
    if verb == "off":
        return turn_off(context)
    if verb == "preview":
        return preview(context)
    if verb == "status":
        return status(context)
    raise usage_error(COMMAND)


COMMAND = Command(
    name="/digest",
    summary="A weekly digest of new Chinese and US releases and how download share moved.",
    usage="/digest on [weekday] [HH:MM] [timezone] | off | preview | status",
    examples=("/digest on", "/digest on friday 16:30 Europe/Berlin", "/digest status"),
    run=run,
    details=(
        "`on` posts the digest in this channel every week, by default on Mondays at 09:00 in "
        "your Slack timezone (or the IANA timezone you name). `off` stops it. `preview` shows "
        "it now, privately. `status` tells when it runs next and how the last run went."
    ),
)
