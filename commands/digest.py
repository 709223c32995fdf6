"""``/digest on [day] [time] [timezone] | off | preview | status``: this channel's weekly
digest of the open-model landscape. ``on`` reads its words in any order: a day name
(``friday``, ``fri``), a 12- or 24-hour time (``9am``, ``9:30pm``, ``17:30``) and an IANA
timezone, each optional."""

from __future__ import annotations

from collections.abc import Sequence

from bot.answers.message import Answer
from bot.answers.mrkdwn import echo
from bot.answers.render import render_message
from bot.channels import digest, digest_schedule
from bot.channels import ledger as delivery
from bot.channels.digest_schedule import (
    DEFAULT_TIME,
    DEFAULT_TIMEZONE,
    DEFAULT_WEEKDAY,
    MERIDIEMS,
    parse_time,
    parse_timezone,
    parse_weekday,
)
from bot.core.errors import UserError
from commands.args import bad_argument, parse_args, usage_error
from commands.base import Command, Context
from commands.hubpulse import help_answer
from commands.where import channel_of

VERBS = ("on", "off", "preview", "status")


def _joined(words: Sequence[str]) -> list[str]:
    """``9 am`` -> ``9am``: a separate am/pm belongs to the number before it."""
    joined: list[str] = []
    for word in words:
        if joined and word.lower() in MERIDIEMS:
            joined[-1] += word
        else:
            joined.append(word)
    return joined


def _expected(word: str) -> str:
    """What a word that is no day, time or timezone was probably meant to be."""
    if word.isdigit():
        return "a day or a time: name the day (`monday`) and give the time as `9am` or `17:30`"
    if any(c.isdigit() for c in word):
        return "a time (`9am`, `9:30pm`, or 24-hour `17:30`)"
    if "/" in word:
        return "an IANA timezone (`Europe/Berlin`)"
    return "a day (`monday`, `fri`...) or an IANA timezone (`Europe/Berlin`)"


def parse_schedule(words: Sequence[str], default_timezone: str) -> tuple[str, str, str]:
    """``[day] [time] [timezone]`` in any order -> (weekday, ``HH:MM``, timezone).

    Missing parts default to Monday, 09:00 and ``default_timezone`` (the user's own, from
    Slack), or UTC when that is unknown too.
    """
    found: dict[str, str] = {}
    for word in _joined(words):
        for part, value in (
            ("day", parse_weekday(word)),
            ("time", parse_time(word)),
            ("timezone", parse_timezone(word)),
        ):
            if value is None:
                continue
            if part in found:
                raise usage_error(COMMAND, f"{echo(word)} is a second {part}: give one.")
            found[part] = value
            break
        else:
            raise bad_argument(COMMAND, word, _expected(word))
    fallback = parse_timezone(default_timezone) if default_timezone else None
    return (
        found.get("day", DEFAULT_WEEKDAY),
        found.get("time", DEFAULT_TIME),
        found.get("timezone") or fallback or DEFAULT_TIMEZONE,
    )


def turn_on(words: tuple[str, ...], context: Context) -> Answer:
    channel = channel_of(context)
    fallback = context.user_tz or context.default_timezone
    weekday, time, zone = parse_schedule(words, fallback)
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
    if verb not in VERBS:
        raise bad_argument(COMMAND, args.words[0], "one of " + ", ".join(f"`{v}`" for v in VERBS))
    if verb == "on":
        return turn_on(rest, context)
    if rest:
        raise usage_error(COMMAND, f"`{verb}` takes nothing after it; {echo(rest[0])} is extra.")
    if verb == "off":
        return turn_off(context)
    if verb == "preview":
        return preview(context)
    return status(context)


COMMAND = Command(
    name="/digest",
    summary="A weekly digest of new Chinese and US releases and how download share moved.",
    usage="/digest on [day] [time] [timezone] | off | preview | status",
    examples=(
        "/digest on friday 9am",
        "/digest on fri 17:30 Europe/Berlin",
        "/digest on",
        "/digest status",
    ),
    run=run,
    details=(
        "`on` posts the digest in this channel every week, by default on Mondays at 09:00 in "
        "your Slack timezone (or the IANA timezone you name). The day is a name (`friday`, "
        "`fri`), the time 12- or 24-hour (`9am`, `9:30pm`, `17:30`), in any order. "
        "`off` stops it. `preview` shows it now, privately. `status` tells when it runs next "
        "and how the last run went."
    ),
)
