"""Channel subscriptions to an org or a country: storage and rules.

Every function takes the workspace (team and enterprise id) and the channel, and every query
filters on them: a command run in one workspace can neither see nor change another's rows.
Subscribing again to the same target updates its features (GitHub's Slack app does the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Engine, delete, insert, select, update
from sqlalchemy.engine import RowMapping

from bot.answers import names
from bot.answers.mrkdwn import echo, escape
from bot.channels.channel import Channel
from bot.core.clock import as_utc
from bot.core.errors import UserError
from bot.core.registry import country_name
from bot.store.channel_tables import subscriptions
from bot.store.reader import Reader

ORG, COUNTRY = "org", "country"
RELEASES, SHARE, ALL = "releases", "share", "all"
FEATURES = (RELEASES, SHARE, ALL)
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


@dataclass(frozen=True)
class Target:
    """What a channel follows: an org (a Hub namespace) or a country (ISO alpha-2 code)."""

    kind: str
    key: str

    @property
    def label(self) -> str:
        return country_name(self.key) if self.kind == COUNTRY else self.key


@dataclass(frozen=True)
class Subscription:
    id: int
    channel: Channel
    target: Target
    features: str
    added_by: str
    created_at: datetime
    updated_at: datetime
    share_baseline: float | None
    share_baseline_snapshot_id: int | None
    failures: int
    last_error: str | None
    paused_reason: str | None

    @property
    def wants_releases(self) -> bool:
        return self.features in (RELEASES, ALL)

    @property
    def wants_share(self) -> bool:
        return self.features in (SHARE, ALL)

    @property
    def paused(self) -> bool:
        return self.paused_reason is not None


@dataclass(frozen=True)
class Change:
    """The outcome of ``subscribe``: ``created``, ``updated`` (features changed, or a paused
    subscription resumed) or ``unchanged``."""

    subscription: Subscription
    outcome: str
    previous_features: str | None = None


def _subscription(row: RowMapping) -> Subscription:
    return Subscription(
        id=row["id"],
        channel=Channel(row["team_id"], row["channel_id"], row["enterprise_id"]),
        target=Target(row["target_kind"], row["target_key"]),
        features=row["features"],
        added_by=row["added_by"],
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        share_baseline=row["share_baseline"],
        share_baseline_snapshot_id=row["share_baseline_snapshot_id"],
        failures=row["failures"],
        last_error=row["last_error"],
        paused_reason=row["paused_reason"],
    )


def parse_features(word: str) -> str:
    features = word.strip().lower()
    if features not in FEATURES:
        raise UserError(
            f"{echo(word)} is not a feature: use `releases` (the default), `share` or `all`."
        )
    return features


def resolve_target(text: str, reader: Reader) -> Target:
    """The org (a family is named by its root org) or country ``text`` names.

    With an empty cache only registered orgs and countries can be named.
    """
    snapshot = reader.latest_or_none()
    if snapshot is None:
        code = names.country_code(text)
        if code is not None:
            return Target(COUNTRY, code)
        org = names.registered_org(reader.registry, names.normalize(text))
        if org is not None:
            return Target(ORG, org.org)
        raise UserError(f"no org called {echo(text)} in the registry, and the cache is empty.")
    found = names.resolve(text, reader, snapshot.id)
    if isinstance(found, names.CountryName):
        return Target(COUNTRY, found.code)
    if isinstance(found, names.OrgName):
        return Target(ORG, found.org)
    raise UserError(
        f"{echo(found.model.id)} is a model: subscribe to its org, "
        f"`/subscribe {escape(found.model.author)}`."
    )


def _where_channel(channel: Channel) -> ColumnElement[bool]:
    s = subscriptions.c
    return (s.team_id == channel.team_id) & (s.channel_id == channel.channel_id)


def _where_target(channel: Channel, target: Target) -> ColumnElement[bool]:
    s = subscriptions.c
    return _where_channel(channel) & (s.target_kind == target.kind) & (s.target_key == target.key)


def get(engine: Engine, channel: Channel, target: Target) -> Subscription | None:
    with engine.connect() as c:
        row = (
            c.execute(select(subscriptions).where(_where_target(channel, target)))
            .mappings()
            .first()
        )
    return _subscription(row) if row else None


def subscribe(
    engine: Engine,
    channel: Channel,
    target: Target,
    features: str,
    user_id: str,
    now: datetime,
    *,
    share: tuple[float, int] | None = None,
) -> Change:
    """Add or update a subscription; ``share`` is the target's current (share, snapshot id),
    the baseline that share alerts measure moves from."""
    baseline = {
        "share_baseline": share[0] if share else None,
        "share_baseline_snapshot_id": share[1] if share else None,
    }
    with engine.begin() as c:
        row = (
            c.execute(select(subscriptions).where(_where_target(channel, target)))
            .mappings()
            .first()
        )
        if row is None:
            c.execute(
                insert(subscriptions).values(
                    team_id=channel.team_id,
                    enterprise_id=channel.enterprise_id,
                    channel_id=channel.channel_id,
                    target_kind=target.kind,
                    target_key=target.key,
                    features=features,
                    added_by=user_id,
                    created_at=now,
                    updated_at=now,
                    failures=0,
                    **baseline,
                )
            )
            outcome, previous = CREATED, None
        else:
            previous = row["features"]
            paused = row["paused_reason"] is not None
            outcome = UPDATED if previous != features or paused else UNCHANGED
            if outcome == UPDATED:
                values = {
                    "features": features,
                    "updated_at": now,
                    "failures": 0,
                    "paused_reason": None,
                    "paused_at": None,
                }
                if row["share_baseline"] is None:
                    values.update(baseline)
                c.execute(update(subscriptions).where(subscriptions.c.id == row["id"]), values)
        fresh = (
            c.execute(select(subscriptions).where(_where_target(channel, target))).mappings().one()
        )
    return Change(_subscription(fresh), outcome, previous)


def unsubscribe(engine: Engine, channel: Channel, target: Target) -> bool:
    """Remove a subscription; False when the channel was not subscribed to it."""
    with engine.begin() as c:
        result = c.execute(delete(subscriptions).where(_where_target(channel, target)))
    return bool(result.rowcount)


def for_channel(engine: Engine, channel: Channel) -> list[Subscription]:
    """A channel's subscriptions, alphabetically by what they follow."""
    with engine.connect() as c:
        rows = c.execute(select(subscriptions).where(_where_channel(channel))).mappings().all()
    found = [_subscription(row) for row in rows]
    return sorted(found, key=lambda s: (s.target.label.lower(), s.target.kind))


def for_workspace(engine: Engine, team_id: str) -> list[Subscription]:
    """Every subscription of one workspace (for its App Home), by channel then target."""
    with engine.connect() as c:
        rows = (
            c.execute(select(subscriptions).where(subscriptions.c.team_id == team_id))
            .mappings()
            .all()
        )
    found = [_subscription(row) for row in rows]
    return sorted(found, key=lambda s: (s.channel.channel_id, s.target.label.lower()))


def active(engine: Engine) -> list[Subscription]:
    """Every subscription that is not paused, across workspaces: the alert pass's input."""
    with engine.connect() as c:
        rows = (
            c.execute(select(subscriptions).where(subscriptions.c.paused_reason.is_(None)))
            .mappings()
            .all()
        )
    return [_subscription(row) for row in rows]


def move_share_baselines(connection: Connection, moved: dict[int, tuple[float, int]]) -> None:
    """Set each subscription's share baseline (share, snapshot id): after a share alert, the
    next move is measured from the share it reported. Runs in the caller's transaction."""
    for subscription_id, (share, snapshot_id) in moved.items():
        connection.execute(
            update(subscriptions)
            .where(subscriptions.c.id == subscription_id)
            .values(share_baseline=share, share_baseline_snapshot_id=snapshot_id)
        )
