"""Share alerts of crossovers in the whole-Hub history, one message per crossover.

A channel that follows an org or a country with share alerts is told when that org enters or
leaves the top 10 orgs (publisher attribution, 30-day downloads), or when that country passes
another or is passed (either attribution, 30-day or all-time downloads), as found between
consecutive archived weeks (``bot.channels.crossover_news``).

Each alert is a ledger delivery keyed by its crossover, so it is posted once per channel
however often the alert pass runs (after every refresh) and however many of the channel's
subscriptions it concerns. A subscription hears only of crossovers that became known after it
was made and whose week is recent (``RECENT``): a backfill of two years is not two years of
alerts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from bot.answers.render import render_message
from bot.channels import ledger as delivery
from bot.channels.channel import Channel
from bot.channels.crossover_news import CrossoverNews, recent_crossovers
from bot.channels.subscriptions import COUNTRY, ORG, Subscription, Target
from bot.model.crossovers import COUNTRIES, TOP_ORGS, Crossover
from bot.store.channel_tables import deliveries
from bot.store.reader import Reader

RECENT = timedelta(weeks=3)
"""Crossovers of archived weeks starting at most this long ago are news."""
PERIOD_PREFIX = "crossover-"


def concerns(crossover: Crossover, target: Target) -> bool:
    """Whether a share subscription to ``target`` hears of ``crossover``."""
    if target.kind == COUNTRY:
        return crossover.kind == COUNTRIES and target.key.upper() in crossover.keys
    if target.kind == ORG:
        return crossover.kind == TOP_ORGS and target.key.lower() == crossover.side.key.lower()
    return False


def period_key(crossover: Crossover) -> str:
    """The ledger period of a crossover's alert (within the ledger's 64 characters)."""
    digest = hashlib.sha256(crossover.identity.encode()).hexdigest()[:40]
    return f"{PERIOD_PREFIX}{digest}"


def payload(news: CrossoverNews) -> dict[str, Any]:
    message = render_message("alert_crossover.j2", x=news)
    return {"text": message.text, "blocks": message.blocks}


def plan(
    reader: Reader, engine: Engine, subs: Sequence[Subscription], now: datetime
) -> list[delivery.Pending]:
    """The crossover alerts not in the ledger yet, one per channel and crossover."""
    wanted = [sub for sub in subs if sub.wants_share]
    if not wanted:
        return []
    found = recent_crossovers(
        engine,
        reader.registry,
        weeks_from=(now - RECENT).date(),
        known_after=None,
        known_until=now,
    )
    matched: dict[tuple[Channel, str], CrossoverNews] = {}
    for news in found:
        period = period_key(news.crossover)
        for sub in wanted:
            if news.known_at > sub.created_at and concerns(news.crossover, sub.target):
                matched.setdefault((sub.channel, period), news)
    if not matched:
        return []
    done = _in_ledger(engine, [(channel, period) for channel, period in matched])
    bodies: dict[str, dict[str, Any]] = {}
    items = []
    for (channel, period), news in matched.items():
        if (channel.team_id, channel.channel_id, period) in done:
            continue
        if period not in bodies:
            bodies[period] = payload(news)
        items.append(delivery.Pending(channel, delivery.ALERT, period, bodies[period]))
    return items


def enqueue(engine: Engine, items: Sequence[delivery.Pending], now: datetime) -> int:
    """Add the planned alerts (a key another process added meanwhile is left alone)."""
    if not items:
        return 0
    with engine.begin() as connection:
        return delivery.enqueue(connection, items, now)


def _in_ledger(engine: Engine, keys: list[tuple[Channel, str]]) -> set[tuple[str, str, str]]:
    """Which of the (channel, period) alert keys the ledger holds already."""
    d = deliveries.c
    periods = sorted({period for _, period in keys})
    with engine.connect() as connection:
        rows = connection.execute(
            select(d.team_id, d.channel_id, d.period_key).where(
                d.kind == delivery.ALERT, d.period_key.in_(periods)
            )
        ).all()
    return {(row.team_id, row.channel_id, row.period_key) for row in rows}
