"""When each channel's weekly digest runs: its settings, stored per workspace and channel.

A digest runs on a weekday at a local time in an IANA timezone. The weekday is always a name:
APScheduler 3 numbers Monday as 0 (unlike cron), so a number would silently shift the day.
Each run belongs to a *period*, the local date of the scheduled run it answers, which is the
key of its row in the delivery ledger: whoever sends the digest for that date first wins, and
everyone else (a restarted scheduler, a second process, ``hubpulse digest send``) finds it sent.
What each run did is kept on the digest's row (``record_run``); for a run that posted, in the
same transaction as the delivery's outcome (``bot.channels.outcome``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import ColumnElement, Connection, Engine, select, update
from sqlalchemy.engine import RowMapping

from bot.channels.channel import Channel
from bot.core.clock import as_utc
from bot.store.channel_tables import digests
from bot.store.upsert import dialect_insert

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_WEEKDAY, DEFAULT_TIME, DEFAULT_TIMEZONE = "mon", "09:00", "UTC"
LATE_AFTER = timedelta(minutes=15)
"""A digest sent more than this after its scheduled time says it is late."""

_TIME_24 = re.compile(r"^([01]?\d|2[0-3])[:.h]([0-5]\d)$")
_TIME_12 = re.compile(r"^(1[0-2]|0?[1-9])(?:[:.]([0-5]\d))?(am|pm|a\.m\.|p\.m\.)$")
MERIDIEMS = frozenset({"am", "pm", "a.m.", "p.m."})


@dataclass(frozen=True)
class DigestConfig:
    channel: Channel
    enabled: bool
    weekday: str
    time: str
    timezone: str
    added_by: str
    last_run_at: datetime | None = None
    last_result: str | None = None
    last_period: str | None = None
    last_snapshot_id: int | None = None
    failures: int = 0
    last_error: str | None = None
    paused_reason: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def spec(self) -> str:
        """The schedule in one string: a scheduler job is replaced only when this changes."""
        return f"{self.weekday} {self.time} {self.timezone}"

    @property
    def when(self) -> str:
        """``Mondays at 09:00 (Europe/Berlin)``."""
        return f"{WEEKDAY_NAMES[WEEKDAYS.index(self.weekday)]}s at {self.time} ({self.timezone})"

    def trigger(self) -> CronTrigger:
        hour, minute = (int(part) for part in self.time.split(":"))
        return CronTrigger(day_of_week=self.weekday, hour=hour, minute=minute, timezone=self.zone)

    def next_run(self, now: datetime) -> datetime:
        """The first scheduled time after ``now``."""
        fire = self.trigger().get_next_fire_time(None, now + timedelta(seconds=1))
        assert fire is not None
        return as_utc(fire)

    def slot_before(self, now: datetime) -> datetime:
        """The latest scheduled time at or before ``now`` (the run ``now`` belongs to)."""
        trigger = self.trigger()
        fire = trigger.get_next_fire_time(None, now - timedelta(days=8))
        assert fire is not None
        while True:
            following = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
            if following is None or following > now:
                return as_utc(fire)
            fire = following

    def period(self, slot: datetime) -> str:
        """The ledger period of a scheduled run: its local date, ``2026-01-05``."""
        return slot.astimezone(self.zone).date().isoformat()


def _config(row: RowMapping) -> DigestConfig:
    return DigestConfig(
        channel=Channel(row["team_id"], row["channel_id"], row["enterprise_id"]),
        enabled=row["enabled"],
        weekday=row["weekday"],
        time=row["time"],
        timezone=row["timezone"],
        added_by=row["added_by"],
        last_run_at=as_utc(row["last_run_at"]) if row["last_run_at"] else None,
        last_result=row["last_result"],
        last_period=row["last_period"],
        last_snapshot_id=row["last_snapshot_id"],
        failures=row["failures"],
        last_error=row["last_error"],
        paused_reason=row["paused_reason"],
    )


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_timezone(text: str) -> str | None:
    """The canonical IANA name for ``text`` (any letter case), else None."""
    name = _zones_by_lower_name().get(text.strip().lower())
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def parse_weekday(text: str) -> str | None:
    """``fri``, ``Friday``, ``FRIDAYS`` -> ``fri``: the first three or more letters of a
    day's name, any letter case, a plural ``s`` allowed."""
    word = text.strip().lower()
    for short, full in zip(WEEKDAYS, WEEKDAY_NAMES, strict=True):
        name = full.lower()
        if len(word) >= 3 and (name.startswith(word) or word == f"{name}s"):
            return short
    return None


def parse_time(text: str) -> str | None:
    """A 24-hour (``17:30``, ``9:05``) or 12-hour (``9am``, ``9:30pm``, ``12am``) time as
    ``HH:MM``, any letter case; None for anything else (``25:00``, ``13pm``, ``9``)."""
    word = text.strip().lower()
    if match := _TIME_24.match(word):
        return f"{int(match.group(1)):02d}:{match.group(2)}"
    if match := _TIME_12.match(word):
        hour = int(match.group(1)) % 12 + (12 if match.group(3).startswith("p") else 0)
        return f"{hour:02d}:{match.group(2) or '00'}"
    return None


def _where(channel: Channel) -> ColumnElement[bool]:
    return (digests.c.team_id == channel.team_id) & (digests.c.channel_id == channel.channel_id)


def get(engine: Engine, channel: Channel) -> DigestConfig | None:
    with engine.connect() as c:
        row = c.execute(select(digests).where(_where(channel))).mappings().first()
    return _config(row) if row else None


def enable(
    engine: Engine,
    channel: Channel,
    weekday: str,
    time: str,
    timezone: str,
    user_id: str,
    now: datetime,
) -> DigestConfig:
    """Turn a channel's digest on (or reschedule it); a paused digest resumes. One
    ``INSERT ... ON CONFLICT DO UPDATE``: two commands at once never collide."""
    values = {
        "enterprise_id": channel.enterprise_id,
        "enabled": True,
        "weekday": weekday,
        "time": time,
        "timezone": timezone,
        "added_by": user_id,
        "updated_at": now,
        "failures": 0,
        "paused_reason": None,
        "paused_at": None,
    }
    with engine.begin() as c:
        statement = dialect_insert(c, digests).values(
            team_id=channel.team_id, channel_id=channel.channel_id, created_at=now, **values
        )
        upsert = statement.on_conflict_do_update(
            index_elements=[digests.c.team_id, digests.c.channel_id], set_=values
        )
        row = c.execute(upsert.returning(*digests.c)).mappings().one()
    return _config(row)


def disable(engine: Engine, channel: Channel, now: datetime) -> bool:
    """Turn a channel's digest off; False when it was not on. Its history is kept."""
    with engine.begin() as c:
        result = c.execute(
            update(digests)
            .where(_where(channel) & digests.c.enabled.is_(True))
            .values(enabled=False, updated_at=now)
        )
    return bool(result.rowcount)


def scheduled(engine: Engine) -> list[DigestConfig]:
    """Every digest that should have a scheduler job: enabled and not paused."""
    with engine.connect() as c:
        rows = (
            c.execute(
                select(digests).where(
                    digests.c.enabled.is_(True), digests.c.paused_reason.is_(None)
                )
            )
            .mappings()
            .all()
        )
    return [_config(row) for row in rows]


def record_run(
    connection: Connection,
    channel: Channel,
    now: datetime,
    result: str,
    *,
    period: str | None = None,
    snapshot_id: int | None = None,
) -> None:
    """What the last run did, for ``/digest status``; a sent digest also moves the baseline
    (the snapshot the next digest compares with). Runs in the caller's transaction."""
    values: dict[str, object] = {"last_run_at": now, "last_result": result}
    if period is not None:
        values["last_period"] = period
    if snapshot_id is not None:
        values["last_snapshot_id"] = snapshot_id
    connection.execute(update(digests).where(_where(channel)).values(**values))
