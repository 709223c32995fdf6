"""Crossovers in the whole-Hub history: found between consecutive archived weeks, checked
against an independent pandas computation on the same parquet files, announced once by the
digest and once per channel by the share alerts.

The archive is built so that the crossovers are known by construction: China passes the US in
the third week in both attributions (a Qwen fine-tune published by a French org helps the
lineage side), Qwen's family passes Llama's the same week, and in the fourth week mistralai
enters the top 10 orgs, pushing u5 out. The first week lacks ``downloadsAllTime``; nothing
crosses in all-time downloads.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import combinations, pairwise
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

from bot.channels import crossover_alerts, digest_schedule
from bot.channels.channel import Channel
from bot.channels.crossover_news import recent_crossovers
from bot.core.clock import Clock, FrozenClock
from bot.core.registry import UNKNOWN_COUNTRY, Registry
from bot.ingest.archive import LocalArchive
from bot.ingest.backfill import BackfillReport, backfill
from bot.jobs import send as dispatch
from bot.jobs import tasks as jobs
from bot.model.crossovers import (
    ALL_TIME,
    DOWNLOADS,
    ENTERED,
    LEFT,
    PASSED,
    Crossover,
    Share,
    WeekFigures,
    find_crossovers,
)
from commands import digest as digest_command
from commands import subscribe
from tests.hubworld import CHANNEL, TEAM, World, installed_world, small_registry

DAYS = ("2025-12-08", "2025-12-15", "2025-12-22", "2025-12-29")
LABEL = "hfmlsoc/hub_weekly_snapshots"
THOUSAND = 1000
MODELS: dict[str, tuple[tuple[int, ...], str | None, int]] = {
    # id: (30-day downloads in thousands, week by week; parent; all-time base in thousands)
    "Qwen/Qwen-base": ((100, 150, 320, 350), None, 1000),
    "deepseek-ai/ds": ((40, 45, 50, 55), None, 1000),
    "meta-llama/Llama-base": ((250, 240, 230, 220), None, 5000),
    "google/gemma": ((60, 60, 60, 60), None, 100),
    "unsloth/Qwen-base-GGUF": ((20, 20, 20, 20), "Qwen/Qwen-base", 100),
    "someone/llama-ft": ((90, 90, 90, 90), "meta-llama/Llama-base", 100),
    "mistralai/mistral": ((10, 10, 10, 10), None, 100),
    "mistralai/Qwen-distill": ((1, 1, 1, 190), "Qwen/Qwen-base", 100),
    **{f"u{i}/m": ((31 - i,) * 4, None, 300) for i in range(1, 7)},
}


def week_table(k: int) -> pa.Table:
    ids = list(MODELS)
    downloads = [MODELS[i][0][k] * THOUSAND for i in ids]
    columns: dict[str, object] = {
        "id": ids,
        "downloads": downloads,
        "createdAt": ["2025-06-01T00:00:00.000Z"] * len(ids),
        "tags": [
            [f"base_model:finetune:{MODELS[i][1]}"] if MODELS[i][1] else ["text-generation"]
            for i in ids
        ],
        "cardData": ["x" * 200] * len(ids),  # heavy, never read
    }
    if k > 0:  # the first week predates all-time counts
        columns["downloadsAllTime"] = [
            (MODELS[i][2] + 10 * MODELS[i][0][k]) * THOUSAND for i in ids
        ]
    return pa.table(columns)


def write_archive(root: Path) -> Path:
    for k, day in enumerate(DAYS):
        path = root / "models" / day / "models.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(week_table(k), path, row_group_size=5)
    return root


def import_archive(engine: Engine, root: Path, registry: Registry, clock: Clock) -> BackfillReport:
    archive = LocalArchive(root)
    archive.label = LABEL  # as if it were the public archive
    report = backfill(engine, archive, registry, clock=clock)
    assert not report.failed
    return report


# The independent computation: pandas over the parquet files, by the definitions.

Key = tuple[date, str, str, str, str, str, str | None]
"""(week, kind, event, attribution, measure, side, other)"""


def pandas_shares(path: Path, registry: Registry) -> dict[tuple[str, str, str], pd.Series]:
    """(attribution, level, measure) -> share by key, for one week file."""
    names = pq.read_schema(path).names
    wanted = [c for c in ("id", "downloads", "downloadsAllTime", "tags") if c in names]
    frame = pd.read_parquet(path, columns=wanted)
    frame["publisher"] = frame["id"].str.split("/").str[0]
    parent = frame["tags"].map(
        lambda tags: next((t.split(":", 2)[2] for t in tags if t.startswith("base_model:")), None)
    )
    frame["lineage"] = parent.fillna(frame["id"]).str.split("/").str[0]
    found = {}
    measures = [(DOWNLOADS, "downloads")]
    if "downloadsAllTime" in names:
        measures.append((ALL_TIME, "downloadsAllTime"))
    for measure, column in measures:
        total = frame[column].sum()
        for attribution in ("publisher", "lineage"):
            by_org = frame.groupby(attribution)[column].sum() / total
            by_country = by_org.groupby(by_org.index.map(registry.country_of)).sum()
            found[(attribution, "org", measure)] = by_org
            found[(attribution, "country", measure)] = by_country
    return found


def ranked(shares: pd.Series) -> list[str]:
    frame = shares.rename("share").rename_axis("key").reset_index()
    return frame.sort_values(["share", "key"], ascending=[False, True])["key"].tolist()


def flips(
    before: pd.Series, after: pd.Series, keys: list[str]
) -> dict[tuple[str, str], tuple[float, ...]]:
    """(passer, passed) -> (its share before, after, the other's before, after)."""
    found: dict[tuple[str, str], tuple[float, ...]] = {}
    for a, b in combinations(sorted(set(keys)), 2):
        for x, y in ((a, b), (b, a)):
            x0, x1, y0, y1 = before.get(x, 0), after.get(x, 0), before.get(y, 0), after.get(y, 0)
            if x0 < y0 and x1 > y1:
                found[(x, y)] = (x0, x1, y0, y1)
    return found


def pandas_crossovers(root: Path, registry: Registry) -> dict[Key, tuple[float, ...]]:
    weeks = sorted(root.glob("models/*/models.parquet"))
    shares = [(date.fromisoformat(p.parent.name), pandas_shares(p, registry)) for p in weeks]
    found: dict[Key, tuple[float, ...]] = {}
    for (_, earlier), (day, later) in pairwise(shares):
        for measure in (DOWNLOADS, ALL_TIME):
            if ("publisher", "org", measure) not in earlier.keys() & later.keys():
                continue
            for attribution in ("publisher", "lineage"):
                before = earlier[(attribution, "country", measure)]
                after = later[(attribution, "country", measure)]
                top = [c for c in ranked(after) if c != UNKNOWN_COUNTRY][:10]
                keys = [c for c in top if c in before.index] + ["CN", "US"]
                for (x, y), values in flips(before, after, keys).items():
                    found[(day, "countries", PASSED, attribution, measure, x, y)] = values
            before = earlier[("lineage", "org", measure)]
            after = later[("lineage", "org", measure)]
            keys = [f for f in ranked(after)[:10] if f in before.index]
            for (x, y), values in flips(before, after, keys).items():
                found[(day, "families", PASSED, "lineage", measure, x, y)] = values
        before = earlier[("publisher", "org", DOWNLOADS)]
        after = later[("publisher", "org", DOWNLOADS)]
        was, now = set(ranked(before)[:10]), set(ranked(after)[:10])
        for event, changed in ((ENTERED, now - was), (LEFT, was - now)):
            for key in changed:
                found[(day, "top orgs", event, "publisher", DOWNLOADS, key, None)] = (
                    before.get(key, 0),
                    after.get(key, 0),
                )
    return found


def as_found(crossover: Crossover) -> tuple[Key, tuple[float, ...]]:
    c = crossover
    key = (
        c.week,
        c.kind,
        c.event,
        c.attribution,
        c.measure,
        c.side.key,
        c.other.key if c.other else None,
    )
    figures: tuple[float, ...] = (c.side.before, c.side.after)
    if c.other is not None:
        figures += (c.other.before, c.other.after)
    return key, figures


EXPECTED = {
    (date(2025, 12, 22), "countries", PASSED, "publisher", DOWNLOADS, "CN", "US"),
    (date(2025, 12, 22), "countries", PASSED, "lineage", DOWNLOADS, "CN", "US"),
    (date(2025, 12, 22), "families", PASSED, "lineage", DOWNLOADS, "Qwen", "meta-llama"),
    (date(2025, 12, 29), "top orgs", ENTERED, "publisher", DOWNLOADS, "mistralai", None),
    (date(2025, 12, 29), "top orgs", LEFT, "publisher", DOWNLOADS, "u5", None),
}


def test_crossovers_found_in_the_history_match_pandas_on_the_files(
    tmp_path: Path, engine: Engine
) -> None:
    root = write_archive(tmp_path / "archive")
    registry = small_registry()
    clock = FrozenClock(datetime(2026, 1, 6, tzinfo=UTC))
    import_archive(engine, root, registry, clock)
    stored = recent_crossovers(
        engine, registry, weeks_from=date.min, known_after=None, known_until=clock.now()
    )
    found = dict(as_found(news.crossover) for news in stored)
    independent = pandas_crossovers(root, registry)
    assert set(found) == set(independent) == EXPECTED
    for key, figures in independent.items():
        assert found[key] == pytest.approx(figures, abs=1e-12)
    assert {news.crossover.source for news in stored} == {LABEL}
    entered = next(n.crossover for n in stored if n.crossover.event == ENTERED)
    assert (entered.side.rank_before, entered.side.rank_after) == (13, 3)
    # Known at the import: nothing is news before it or after a later watermark.
    assert not recent_crossovers(
        engine,
        registry,
        weeks_from=date.min,
        known_after=None,
        known_until=clock.now() - timedelta(seconds=1),
    )
    assert not recent_crossovers(
        engine, registry, weeks_from=date.min, known_after=clock.now(), known_until=clock.now()
    )
    recent = recent_crossovers(
        engine, registry, weeks_from=date(2025, 12, 29), known_after=None, known_until=clock.now()
    )
    assert {n.crossover.event for n in recent} == {ENTERED, LEFT}


def figures(day: int, countries: dict[str, float], families: dict[str, float]) -> WeekFigures:
    return WeekFigures(
        day=date(2025, 1, day),
        source=LABEL,
        countries={a: {k: Share(v) for k, v in countries.items()} for a in ("publisher",)},
        families={k: Share(v) for k, v in families.items()},
        orgs={},
        has_all_time=False,
    )


def test_a_tie_a_newcomer_and_a_missing_measure_are_not_crossovers() -> None:
    earlier = figures(6, {"CN": 0.1, "US": 0.1, "FR": 0.2}, {"Qwen": 0.1, "meta-llama": 0.2})
    later = figures(
        13, {"CN": 0.2, "US": 0.15, "FR": 0.1}, {"Qwen": 0.1, "meta-llama": 0.2, "new": 0.3}
    )
    found = find_crossovers(earlier, later)
    # CN was level with the US (a tie is not news) but passed France; so did the US. A family
    # absent from the earlier week passed nobody.
    assert {(c.side.key, c.other.key if c.other else None) for c in found} == {
        ("CN", "FR"),
        ("US", "FR"),
    }
    assert all(c.measure == DOWNLOADS for c in found)  # no all-time counts in these weeks
    assert all(c.attribution == "publisher" for c in found)  # the only attribution given


def test_unregistered_authors_and_region_placeholders_pass_no_country() -> None:
    # Unregistered authors (ZZ) and orgs whose region only is known (XU, XO, EU) are no
    # country: their passing France is not news; Germany's is.
    earlier = figures(
        6, {UNKNOWN_COUNTRY: 0.05, "XU": 0.05, "XO": 0.05, "EU": 0.05, "DE": 0.05, "FR": 0.1}, {}
    )
    later = figures(
        13, {UNKNOWN_COUNTRY: 0.2, "XU": 0.2, "XO": 0.2, "EU": 0.2, "DE": 0.15, "FR": 0.1}, {}
    )
    found = find_crossovers(earlier, later)
    assert {(c.side.key, c.other.key if c.other else None) for c in found} == {("DE", "FR")}


# The digest and the alerts, in a world with a fake Hub and a fake Slack.


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with installed_world(tmp_path) as opened:
        yield opened


def _digest_at_nine(world: World) -> None:
    """Move to the next Monday 09:00 UTC and send the channel's digest there."""
    now = world.clock.now()
    target = (now + timedelta(days=(7 - now.weekday()) % 7)).replace(hour=9, minute=0)
    world.clock.set(target if target >= now else target + timedelta(days=7))
    config = digest_schedule.get(world.engine, Channel(TEAM, CHANNEL))
    assert config is not None
    assert dispatch.send_digest(world.runtime, config, scheduled=True).outcome == "sent"


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def test_the_digest_announces_the_crossovers_once(world: World, tmp_path: Path) -> None:
    root = write_archive(tmp_path / "archive")
    world.run(digest_command.COMMAND, "on monday 09:00 UTC")
    _digest_at_nine(world)  # the first digest: no archive yet, so no crossovers
    world.clock.advance(timedelta(days=1))
    import_archive(world.engine, root, world.registry, world.clock)
    for _ in range(6):
        world.clock.advance(timedelta(days=1))
        world.refresh()
    _digest_at_nine(world)
    world.clock.advance(timedelta(days=2))
    world.refresh()
    _digest_at_nine(world)  # nothing imported since the last digest

    first, second, third = world.texts()
    assert "Crossovers" not in first
    assert "Crossovers" not in third
    assert "Share of Hub downloads" in third  # the rest of the digest is unchanged
    independent = pandas_crossovers(root, world.registry)
    publisher = independent[
        (date(2025, 12, 22), "countries", PASSED, "publisher", DOWNLOADS, "CN", "US")
    ]
    lineage = independent[
        (date(2025, 12, 22), "countries", PASSED, "lineage", DOWNLOADS, "CN", "US")
    ]
    family = independent[
        (date(2025, 12, 22), "families", PASSED, "lineage", DOWNLOADS, "Qwen", "meta-llama")
    ]
    mistral = independent[
        (date(2025, 12, 29), "top orgs", ENTERED, "publisher", DOWNLOADS, "mistralai", None)
    ]
    assert (
        f"*China* passed *the United States* in 30-day downloads (publisher attribution) in "
        f"the week of 22 Dec 2025: {_pct(publisher[1])} vs {_pct(publisher[3])} "
        f"(week of 15 Dec 2025: {_pct(publisher[0])} vs {_pct(publisher[2])})"
    ) in second
    assert (
        f"*China* passed *the United States* in 30-day downloads (lineage attribution) in "
        f"the week of 22 Dec 2025: {_pct(lineage[1])} vs {_pct(lineage[3])}"
    ) in second
    assert (
        "*The Alibaba Qwen family* passed *the Meta Llama family* in 30-day downloads "
        f"(lineage attribution) in the week of 22 Dec 2025: {_pct(family[1])} vs "
        f"{_pct(family[3])}"
    ) in second
    assert (
        "*Mistral AI* entered the top 10 orgs by 30-day downloads (publisher attribution) in "
        f"the week of 29 Dec 2025: #3 with {_pct(mistral[1])} (week of 22 Dec 2025: #13 "
        f"with {_pct(mistral[0])})"
    ) in second
    assert "*u5* left the top 10 orgs" in second
    assert f"weekly archive `{LABEL}`" in second
    assert second.index("Share of Hub downloads") < second.index("Crossovers")
    assert second.index("Crossovers") < second.index("New from China")


def test_a_first_digest_reports_the_crossovers_of_the_last_weeks(
    world: World, tmp_path: Path
) -> None:
    import_archive(world.engine, write_archive(tmp_path / "archive"), world.registry, world.clock)
    world.clock.advance(timedelta(hours=1))
    world.refresh()
    answer = world.run(digest_command.COMMAND, "preview")
    assert "China* passed *the United States*" in answer.text
    assert "*Mistral AI* entered the top 10 orgs" in answer.text


def test_names_in_crossovers_are_escaped(tmp_path: Path, sqlite_engine: Engine) -> None:
    root = tmp_path / "archive"
    for k, day in enumerate(DAYS[:2]):
        table = pa.table(
            {
                "id": ["<!channel>/a", "b&c/b"],
                "downloads": [(1, 3)[k], (2, 1)[k]],
            }
        )
        path = root / "models" / day / "models.parquet"
        path.parent.mkdir(parents=True)
        pq.write_table(table, path)
    clock = FrozenClock(datetime(2026, 1, 6, tzinfo=UTC))
    import_archive(sqlite_engine, root, small_registry(), clock)
    (news, *_) = recent_crossovers(
        sqlite_engine,
        small_registry(),
        weeks_from=date.min,
        known_after=None,
        known_until=clock.now(),
    )
    text = crossover_alerts.payload(news)["text"]
    assert "<!channel>" not in text
    assert "*The &lt;!channel&gt; family* passed *the b&amp;c family*" in text


def test_share_subscribers_are_alerted_once_per_crossover(world: World, tmp_path: Path) -> None:
    china = world.add_channel(TEAM, "C-CHINA")
    mistral = world.add_channel(TEAM, "C-MISTRAL")
    releases_only = world.add_channel(TEAM, "C-RELEASES")
    for text in ("china share", "us share", "qwen share"):
        world.run(subscribe.COMMAND, text, channel_id=china.channel_id)
    world.run(subscribe.COMMAND, "mistralai all", channel_id=mistral.channel_id)
    world.run(subscribe.COMMAND, "china releases", channel_id=releases_only.channel_id)
    jobs.refresh_job(runtime=world.runtime)
    assert world.texts(china.channel_id) == []

    world.clock.advance(timedelta(hours=3))
    import_archive(world.engine, write_archive(tmp_path / "archive"), world.registry, world.clock)
    late = world.add_channel(TEAM, "C-LATE")
    world.clock.advance(timedelta(minutes=5))
    world.run(subscribe.COMMAND, "china share", channel_id=late.channel_id)
    world.clock.advance(timedelta(hours=3))
    jobs.refresh_job(runtime=world.runtime)

    china_texts = world.texts(china.channel_id)
    assert len(china_texts) == 2  # publisher and lineage; once although CN and US both match
    assert all("*China* passed *the United States* in 30-day downloads" in t for t in china_texts)
    assert {t.split("(", 1)[1].split(")")[0] for t in china_texts} == {
        "publisher attribution",
        "lineage attribution",
    }
    assert all(f"weekly archive `{LABEL}`" in t for t in china_texts)
    (entered,) = world.texts(mistral.channel_id)
    assert "*Mistral AI* entered the top 10 orgs" in entered
    assert world.texts(releases_only.channel_id) == []
    assert world.texts(late.channel_id) == []  # subscribed after the weeks were imported
    assert world.texts(CHANNEL) == []

    posted = len(world.slack.calls_to("chat.postMessage"))
    world.clock.advance(timedelta(hours=6))
    jobs.refresh_job(runtime=world.runtime)
    dispatch.send_alerts(world.runtime)
    assert len(world.slack.calls_to("chat.postMessage")) == posted
