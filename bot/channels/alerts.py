"""Release and share alerts, planned once per new snapshot.

After a refresh, the models first seen since the last planned snapshot *and created recently*
(an old repo that merely entered the crawl is not news) are matched against every channel's
subscriptions: an org (a family is named by its root org) or a country (through the registry).
Each channel gets at most one message per refresh, however many models matched: a burst of 40
new Qwen repos is one message with the most notable few and a count.

Share alerts compare a target's publisher share with the share it had when the channel last
heard about it (or subscribed), and fire when it moved by the threshold or more.

Planning writes the pending deliveries, the new share baselines and the snapshot's row in
``alert_runs`` in one transaction, so a snapshot's alerts are planned exactly once. The sender
(``bot.delivery.sender``) then claims the pending deliveries a batch at a time, posts each
once, and records each outcome in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from bot.answers.render import render_message
from bot.channels import ledger as delivery
from bot.channels.channel import Channel
from bot.channels.new_models import Grouped, Release, group_by_org, releases
from bot.channels.subscriptions import COUNTRY, Subscription, Target, move_share_baselines
from bot.core.clock import as_utc
from bot.core.registry import Registry
from bot.model.aggregates import PUBLISHER
from bot.store.channel_tables import alert_runs
from bot.store.reader import Reader, Snapshot
from bot.store.schema import snapshots
from bot.store.snapshots import is_demo_source

log = logging.getLogger(__name__)

RECENT = timedelta(days=7)
"""A new model counts as a release when created at most this long before the last snapshot."""
SHOWN_PER_ORG = 3
SHOWN_ORGS = 4


@dataclass(frozen=True)
class ShareMove:
    target: Target
    share: float
    baseline: float
    since: datetime | None

    @property
    def change(self) -> float:
        return self.share - self.baseline


@dataclass
class ChannelAlert:
    channel: Channel
    targets: set[Target] = field(default_factory=set)
    found: dict[str, Release] = field(default_factory=dict)
    moves: list[ShareMove] = field(default_factory=list)


@dataclass(frozen=True)
class AlertPlan:
    snapshot: Snapshot | None
    covered: tuple[int, ...]
    new_releases: int
    alerts: tuple[ChannelAlert, ...]
    baselines: dict[int, tuple[float, int]]


def _covered(
    reader: Reader, engine: Engine
) -> tuple[Snapshot | None, list[Snapshot], Snapshot | None]:
    """(latest, snapshots not yet planned, the snapshot before them)."""
    latest = reader.latest_or_none()
    if latest is None:
        return None, [], None
    s, r = snapshots.c, alert_runs.c
    with engine.connect() as c:
        if c.execute(select(r.snapshot_id).where(r.snapshot_id == latest.id)).first():
            return latest, [], None
        last_planned = c.execute(
            select(s.taken_at)
            .join(alert_runs, r.snapshot_id == s.id)
            .order_by(s.taken_at.desc())
            .limit(1)
        ).scalar()
    complete = reader.snapshots(limit=200)
    older = [snap for snap in complete if snap.taken_at < latest.taken_at]
    if last_planned is None:
        return latest, [latest], older[0] if older else None
    planned_at = as_utc(last_planned)
    covered = [snap for snap in complete if planned_at < snap.taken_at <= latest.taken_at]
    before = [snap for snap in complete if snap.taken_at <= planned_at]
    return latest, covered, before[0] if before else None


def new_releases(
    reader: Reader, latest: Snapshot, covered: list[Snapshot], previous: Snapshot
) -> list[Release]:
    """Models first seen in the covered snapshots and created recently."""
    since = previous.taken_at - RECENT
    models = [
        model
        for snap in covered
        for model in reader.new_in_snapshot(snap.id)
        if model.created_at is not None and model.created_at >= since
    ]
    return releases(reader, latest.id, models)


def _index(subs: list[Subscription]) -> dict[tuple[str, str], list[Subscription]]:
    index: dict[tuple[str, str], list[Subscription]] = {}
    for sub in subs:
        if sub.wants_releases:
            index.setdefault((sub.target.kind, sub.target.key.lower()), []).append(sub)
    return index


def match_releases(
    found: list[Release], subs: list[Subscription], registry: Registry
) -> dict[Channel, ChannelAlert]:
    """Each channel's matching releases: by org, or by the org's registered country."""
    index = _index(subs)
    alerts: dict[Channel, ChannelAlert] = {}
    for release in found:
        matched = index.get(("org", release.author.lower()), []) + index.get(
            (COUNTRY, registry.country_of(release.author).lower()), []
        )
        for sub in matched:
            alert = alerts.setdefault(sub.channel, ChannelAlert(sub.channel))
            alert.targets.add(sub.target)
            alert.found[release.model_id] = release
    return alerts


def share_moves(
    reader: Reader, latest: Snapshot, subs: list[Subscription], threshold_pp: float
) -> tuple[dict[Channel, list[ShareMove]], dict[int, tuple[float, int]]]:
    """Share moves beyond the threshold per channel, and the subscriptions' new baselines."""
    wanted = [sub for sub in subs if sub.wants_share]
    keys: dict[str, set[str]] = {}
    for sub in wanted:
        keys.setdefault(sub.target.kind, set()).add(sub.target.key)
    shares = {
        (kind, row.key): row.share
        for kind, level_keys in keys.items()
        for row in reader.aggregates(latest.id, PUBLISHER, kind, keys=level_keys)
    }
    moves: dict[Channel, list[ShareMove]] = {}
    baselines: dict[int, tuple[float, int]] = {}
    since_cache: dict[int, datetime | None] = {}
    for sub in wanted:
        share = shares.get((sub.target.kind, sub.target.key), 0.0)
        if sub.share_baseline is None:
            baselines[sub.id] = (share, latest.id)
            continue
        if abs(share - sub.share_baseline) * 100 + 1e-9 < threshold_pp:
            continue
        base_id = sub.share_baseline_snapshot_id
        if base_id is not None and base_id not in since_cache:
            base = reader.snapshot(base_id)
            since_cache[base_id] = base.taken_at if base else None
        since = since_cache.get(base_id) if base_id is not None else None
        moves.setdefault(sub.channel, []).append(
            ShareMove(sub.target, share, sub.share_baseline, since)
        )
        baselines[sub.id] = (share, latest.id)
    return moves, baselines


def plan(
    reader: Reader, engine: Engine, subs: list[Subscription], threshold_pp: float
) -> AlertPlan:
    """What to post for the snapshots not planned yet (nothing after the very first one)."""
    latest, covered, previous = _covered(reader, engine)
    if latest is None or not covered:
        return AlertPlan(latest, (), 0, (), {})
    ids = tuple(snap.id for snap in covered)
    if previous is None:
        return AlertPlan(latest, ids, 0, (), {})
    found = new_releases(reader, latest, covered, previous)
    alerts = match_releases(found, subs, reader.registry)
    moves, baselines = share_moves(reader, latest, subs, threshold_pp)
    for channel, channel_moves in moves.items():
        alerts.setdefault(channel, ChannelAlert(channel)).moves.extend(channel_moves)
    ordered = sorted(alerts.values(), key=lambda a: (a.channel.team_id, a.channel.channel_id))
    return AlertPlan(latest, ids, len(found), tuple(ordered), baselines)


def _grouped(alert: ChannelAlert, registry: Registry) -> Grouped:
    return group_by_org(
        list(alert.found.values()),
        registry,
        per_org=SHOWN_PER_ORG,
        max_orgs=SHOWN_ORGS,
        leave_out_noise=False,
    )


def payload(alert: ChannelAlert, snapshot: Snapshot, registry: Registry) -> dict[str, Any]:
    targets = sorted(alert.targets, key=lambda t: t.label.lower())
    message = render_message(
        "alert.j2",
        grouped=_grouped(alert, registry),
        total=len(alert.found),
        targets=targets,
        moves=sorted(alert.moves, key=lambda m: m.target.label.lower()),
        snapshot=snapshot,
        illustrative=is_demo_source(snapshot.source),
    )
    return {"text": message.text, "blocks": message.blocks}


def period_key(snapshot_id: int) -> str:
    return f"snapshot-{snapshot_id}"


def enqueue(engine: Engine, planned: AlertPlan, registry: Registry, now: datetime) -> int:
    """Write the plan (deliveries, baselines, the watermark) in one transaction; returns the
    number of deliveries added (0 when another process planned this snapshot first)."""
    if planned.snapshot is None or not planned.covered:
        return 0
    snapshot = planned.snapshot
    rendered: dict[tuple[Any, ...], dict[str, Any]] = {}
    items = []
    for alert in planned.alerts:
        key = (
            frozenset(alert.targets),
            frozenset(alert.found),
            tuple((m.target, m.share, m.baseline) for m in alert.moves),
        )
        body = rendered.get(key)
        if body is None:
            body = rendered[key] = payload(alert, snapshot, registry)
        items.append(
            delivery.Pending(
                alert.channel, delivery.ALERT, period_key(snapshot.id), body, snapshot.id
            )
        )
    try:
        with engine.begin() as c:
            c.execute(
                insert(alert_runs).values(
                    snapshot_id=snapshot.id,
                    planned_at=now,
                    new_models=planned.new_releases,
                    messages=len(planned.alerts),
                )
            )
            added = delivery.enqueue(c, items, now)
            move_share_baselines(c, planned.baselines)
    except IntegrityError:
        log.info("alerts for snapshot %d were planned by another process", snapshot.id)
        return 0
    log.info(
        "alerts for snapshot %d: %d new releases, %d messages",
        snapshot.id,
        planned.new_releases,
        added,
    )
    return added
