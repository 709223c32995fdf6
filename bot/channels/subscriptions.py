"""Channel subscriptions to an org or a country: storage and rules.

Every function takes the workspace (team and enterprise id) and the channel, and every query
filters on them: a command run in one workspace can neither see nor change another's rows.
A subscription's features are a set, as in GitHub's Slack app: subscribing again adds
features, unsubscribing from a feature removes it, and removing the last removes the
subscription. The set is stored in the ``features`` column as one word (``releases``,
``share``, or ``all`` for both), so rows written before features were sets read the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Engine, delete, select, update
from sqlalchemy.engine import RowMapping

from bot.answers import names
from bot.answers.mrkdwn import echo, escape
from bot.channels.channel import Channel
from bot.core.clock import as_utc
from bot.core.errors import UserError
from bot.core.registry import country_name
from bot.store.channel_tables import subscriptions
from bot.store.reader import Reader
from bot.store.upsert import dialect_insert

ORG, COUNTRY = "org", "country"
RELEASES, SHARE, ALL = "releases", "share", "all"
Features = frozenset[str]
EVERY_FEATURE: Features = frozenset((RELEASES, SHARE))
DEFAULT_FEATURES: Features = frozenset((RELEASES,))
FEATURE_WORDS = {RELEASES: frozenset((RELEASES,)), SHARE: frozenset((SHARE,)), ALL: EVERY_FEATURE}
"""What each feature word a user can type stands for."""
FEATURE_NAMES = {RELEASES: "new releases", SHARE: "share moves"}
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


def encode_features(features: Features) -> str:
    """The stored word of a non-empty feature set."""
    if features == EVERY_FEATURE:
        return ALL
    (only,) = features
    return only


def decode_features(word: str) -> Features:
    return FEATURE_WORDS[word]


def describe_features(features: Features) -> str:
    """``new releases and share moves``, in a fixed order."""
    return " and ".join(FEATURE_NAMES[f] for f in (RELEASES, SHARE) if f in features)


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
    features: Features
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
        return RELEASES in self.features

    @property
    def wants_share(self) -> bool:
        return SHARE in self.features

    @property
    def described(self) -> str:
        return describe_features(self.features)

    @property
    def paused(self) -> bool:
        return self.paused_reason is not None


@dataclass(frozen=True)
class Change:
    """The outcome of ``subscribe``: ``created``, ``updated`` (features added, or a paused
    subscription resumed) or ``unchanged``."""

    subscription: Subscription
    outcome: str
    previous_features: Features | None = None


@dataclass(frozen=True)
class Removal:
    """The outcome of ``unsubscribe``: what was on before, and what is left (None when the
    subscription is gone)."""

    target: Target
    before: Features
    left: Subscription | None


def _subscription(row: RowMapping) -> Subscription:
    return Subscription(
        id=row["id"],
        channel=Channel(row["team_id"], row["channel_id"], row["enterprise_id"]),
        target=Target(row["target_kind"], row["target_key"]),
        features=decode_features(row["features"]),
        added_by=row["added_by"],
        created_at=as_utc(row["created_at"]),
        updated_at=as_utc(row["updated_at"]),
        share_baseline=row["share_baseline"],
        share_baseline_snapshot_id=row["share_baseline_snapshot_id"],
        failures=row["failures"],
        last_error=row["last_error"],
        paused_reason=row["paused_reason"],
    )


def feature_word(word: str) -> Features | None:
    """The features one word names (``releases``, ``share``, ``all``; any case), else None."""
    return FEATURE_WORDS.get(word.strip().lower())


def split_features(words: Sequence[str]) -> tuple[str, Features | None]:
    """(target text, the features named after it, None when none are): features are read
    from the end, so ``qwen releases share`` is Qwen with both, never an org called
    ``qwen releases``. The first word always belongs to the target."""
    named: Features = frozenset()
    end = len(words)
    while end > 1 and (features := feature_word(words[end - 1])) is not None:
        named |= features
        end -= 1
    return " ".join(words[:end]), (named or None)


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
    features: Features,
    user_id: str,
    now: datetime,
    *,
    share: tuple[float, int] | None = None,
) -> Change:
    """Add ``features`` to a channel's subscription, creating it if need be; ``share`` is the
    target's current (share, snapshot id), the baseline that share alerts measure moves from.

    One ``INSERT ... ON CONFLICT DO NOTHING`` makes sure the row exists whoever else is
    subscribing at the same moment; the row is then read locked and updated in the same
    transaction, so concurrent commands add up instead of failing or overwriting each other.
    """
    baseline = {
        "share_baseline": share[0] if share else None,
        "share_baseline_snapshot_id": share[1] if share else None,
    }
    with engine.begin() as c:
        statement = (
            dialect_insert(c, subscriptions)
            .values(
                team_id=channel.team_id,
                enterprise_id=channel.enterprise_id,
                channel_id=channel.channel_id,
                target_kind=target.kind,
                target_key=target.key,
                features=encode_features(features),
                added_by=user_id,
                created_at=now,
                updated_at=now,
                failures=0,
                **baseline,
            )
            .on_conflict_do_nothing(
                index_elements=["team_id", "channel_id", "target_kind", "target_key"]
            )
            .returning(*subscriptions.c)
        )
        inserted = c.execute(statement).mappings().first()
        if inserted is not None:
            return Change(_subscription(inserted), CREATED)
        row = _locked(c, channel, target)
        assert row is not None  # the insert found it there
        previous = decode_features(row["features"])
        paused = row["paused_reason"] is not None
        wanted = previous | features
        if wanted == previous and not paused:
            return Change(_subscription(row), UNCHANGED, previous)
        values: dict[str, object] = {
            "features": encode_features(wanted),
            "updated_at": now,
            "failures": 0,
            "paused_reason": None,
            "paused_at": None,
        }
        if row["share_baseline"] is None:
            values.update(baseline)
        fresh = _updated(c, row["id"], values)
    return Change(_subscription(fresh), UPDATED, previous)


def _locked(c: Connection, channel: Channel, target: Target) -> RowMapping | None:
    """The subscription's row, locked until the transaction ends: ``FOR UPDATE`` on
    PostgreSQL; SQLite serialises writers anyway (a transaction that has run a write
    statement holds the database's write lock)."""
    query = select(subscriptions).where(_where_target(channel, target)).with_for_update()
    return c.execute(query).mappings().first()


def _updated(c: Connection, subscription_id: int, values: dict[str, object]) -> RowMapping:
    """Update one subscription's row; the row as it now is."""
    statement = (
        update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(values)
        .returning(*subscriptions.c)
    )
    return c.execute(statement).mappings().one()


def unsubscribe(
    engine: Engine,
    channel: Channel,
    target: Target,
    now: datetime,
    features: Features = EVERY_FEATURE,
) -> Removal | None:
    """Remove ``features`` from a subscription (all of them by default); removing the last
    removes the subscription. None when the channel was not subscribed to the target or to
    any of those features."""
    with engine.begin() as c:
        row = _locked(c, channel, target)
        if row is None:
            return None
        before = decode_features(row["features"])
        if not before & features:
            return None
        left = before - features
        if not left:
            c.execute(delete(subscriptions).where(subscriptions.c.id == row["id"]))
            return Removal(target, before, None)
        fresh = _updated(c, row["id"], {"features": encode_features(left), "updated_at": now})
    return Removal(target, before, _subscription(fresh))


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
