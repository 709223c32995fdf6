"""``/releases <target> <period>``: repos created per month, from archived weeks, checked against
pandas on the same parquet files.

The archive has a week every Monday from 2 Dec 2024 to 23 Feb 2026, except 14 Apr 2025 (never
published). Each week's file holds every repo created before the end of its week. Baidu
releases nothing until June 2025, then more each month (128 repos in 2025, one deleted again
a week later); PaddlePaddle (also Baidu, China) every other week; Qwen two a week and three in
the missing week; meta-llama (US) every third week; Mistral (France) every fourth and Black
Forest Labs (Germany) every fifth, both in the EU; an unregistered org five a week. Creation
times are random within each week but never on the days of a week that lie in another month
than its middle day, so counting ids by the month of their ``createdAt`` (the pandas check) is
exactly what the archive's weeks can say; how a week spanning two months is split is tested
on its own.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy import Engine

from bot.answers.message import Answer
from bot.answers.names import registered_orgs
from bot.core.clock import FrozenClock
from bot.core.errors import UserError
from bot.core.registry import COUNTRY_NAMES, REGION_ONLY, UNKNOWN_COUNTRY, load_registry
from bot.ingest.archive import LocalArchive
from bot.ingest.backfill import backfill
from bot.model.crawl import Crawl
from bot.model.records import to_record
from bot.store.engine import make_engine, upgrade
from bot.store.reader import Reader
from bot.store.snapshots import DEMO_PREFIX
from bot.store.writer import store_crawl
from commands import releases
from commands.base import Context
from tests.fakes.hub import make_record

FIRST = date(2024, 12, 2)  # a Monday
WEEKS = [FIRST + timedelta(weeks=k) for k in range(65)]  # to 23 Feb 2026
MISSING = date(2025, 4, 14)
DELETED = "baidu/ERNIE-withdrawn"
LABEL = "hfmlsoc/hub_weekly_snapshots"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SNAPSHOT_AT = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
AFTER_THE_ARCHIVE = "baidu/ERNIE-after-the-archive"  # created 5 Mar 2026, only in the snapshot
BAIDU_FROM = date(2025, 6, 2)


def releases_in(week: date) -> dict[str, int]:
    """How many repos each author creates in a week, by construction."""
    k = WEEKS.index(week)
    baidu = 0 if week < BAIDU_FROM else 1 + (week - BAIDU_FROM).days // 28
    return {
        "baidu": baidu,
        "PaddlePaddle": k % 2,
        "Qwen": 3 if week == MISSING else 2,
        "meta-llama": int(k % 3 == 0),
        "mistralai": int(k % 4 == 1),
        "black-forest-labs": int(k % 5 == 2),
        "someone": 5,
    }


def _when(week: date, rng: random.Random) -> datetime:
    """A random time of the week, on a day in the month of its middle day."""
    month = (week + timedelta(days=3)).month
    days = [week + timedelta(days=d) for d in range(7) if (week + timedelta(days=d)).month == month]
    minute = rng.randrange(24 * 60)
    return datetime.combine(rng.choice(days), time(minute // 60, minute % 60), UTC)


def all_models() -> dict[str, datetime]:
    """Every repo ever created (id -> createdAt), old ones first."""
    rng = random.Random(11)
    created = {
        f"{org}/old-{i}": datetime(2024, 6, 1, tzinfo=UTC) + timedelta(days=i)
        for org in ("baidu", "Qwen", "meta-llama", "someone")
        for i in range(3)
    }
    for week in WEEKS:
        for author, count in releases_in(week).items():
            for i in range(count):
                created[f"{author}/{author.lower()}-{week:%Y%m%d}-{i}"] = _when(week, rng)
    created[DELETED] = datetime(2025, 8, 13, 10, tzinfo=UTC)
    return created


def week_table(week: date, created: dict[str, datetime]) -> pa.Table:
    end = datetime.combine(week + timedelta(weeks=1), time(), UTC)
    ids = [
        i
        for i, when in created.items()
        if when < end and (i != DELETED or when >= end - timedelta(weeks=1))
    ]
    return pa.table(
        {
            "id": ids,
            "downloads": [len(i) * 10 for i in ids],
            "createdAt": [created[i].strftime("%Y-%m-%dT%H:%M:%S.000Z") for i in ids],
            "tags": [["text-generation"] for _ in ids],
            "siblings": ["x" * 100 for _ in ids],  # heavy, never read
        }
    )


def write_archive(root: Path, created: dict[str, datetime], weeks: list[date]) -> Path:
    for week in weeks:
        path = root / "models" / f"{week:%Y-%m-%d}" / "models.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(week_table(week, created), path, row_group_size=100)
    return root


def import_archive(engine: Engine, root: Path) -> None:
    archive = LocalArchive(root)
    archive.label = LABEL  # as if it were the public archive
    report = backfill(engine, archive, load_registry(), clock=FrozenClock(NOW))
    assert not report.failed


def store_snapshot(engine: Engine, created: dict[str, datetime]) -> None:
    """hubpulse's own snapshot: every repo still on the Hub, plus one newer than the archive."""
    alive = {i: when for i, when in created.items() if i != DELETED}
    alive[AFTER_THE_ARCHIVE] = datetime(2026, 3, 5, 8, tzinfo=UTC)
    raw = [
        make_record(i, downloads=5, created_at=when.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        for i, when in alive.items()
    ]
    records = {r.id: r for r in map(to_record, raw)}
    store_crawl(
        engine,
        Crawl(records, list(records)),
        load_registry(),
        taken_at=SNAPSHOT_AT,
        finished_at=SNAPSHOT_AT,
        source="fixture",
        top_n=100,
    )


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("archive")
    return write_archive(root, all_models(), [w for w in WEEKS if w != MISSING])


@pytest.fixture(scope="module")
def world(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('monthly') / 'hub.db'}")
    upgrade(engine)
    import_archive(engine, archive)
    store_snapshot(engine, all_models())
    yield engine
    engine.dispose()


def ask(engine: Engine, text: str, now: datetime = NOW) -> Answer:
    reader = Reader(engine, load_registry(), FrozenClock(now))
    answer = releases.COMMAND.run(text, Context(reader, engine))
    assert len(answer.blocks) <= 50
    for block in answer.blocks:
        Block.parse(block).validate_json()
    return answer


def month_rows(text: str) -> dict[str, int]:
    """``• Jun 2025 · *12* ▇▇ · 12 so far`` -> {"2025-06": 12}."""
    rows = re.findall(r"^• (\w{3} \d{4})(?: \(from [^)]*\))? · \*([\d,]+)\*", text, re.M)
    return {
        datetime.strptime(month, "%b %Y").strftime("%Y-%m"): int(n.replace(",", ""))
        for month, n in rows
    }


# The independent computations: pandas over the same parquet files.


def pandas_models(root: Path) -> pd.DataFrame:
    """Every id any week's file holds, once, with its author and creation time."""
    frames = [
        pd.read_parquet(path, columns=["id", "createdAt"])
        for path in sorted(root.glob("models/*/models.parquet"))
    ]
    frame = pd.concat(frames).drop_duplicates("id")
    frame["author"] = frame["id"].str.split("/").str[0]
    frame["created"] = pd.to_datetime(frame["createdAt"], utc=True)
    return frame


def pandas_by_month(root: Path, authors: set[str], start: date, end: date) -> dict[str, int]:
    """Ids of ``authors`` whose createdAt falls in each month of [start, end)."""
    frame = pandas_models(root)
    created = frame["created"].dt.tz_localize(None)
    inside = (
        frame["author"].isin(authors)
        & (created >= pd.Timestamp(start))
        & (created < pd.Timestamp(end))
    )
    return frame.loc[inside, "created"].dt.strftime("%Y-%m").value_counts().to_dict()


def pandas_by_week(root: Path, authors: set[str], start: date, end: date) -> dict[str, int]:
    """Per week file, the ids of ``authors`` created in [day, day + 7), counted in the month
    of the week's middle day, for weeks whose middle day is in [start, end)."""
    counts: Counter[str] = Counter()
    for path in sorted(root.glob("models/*/models.parquet")):
        day = date.fromisoformat(path.parent.name)
        middle = day + timedelta(days=3)
        if not start <= middle < end:
            continue
        frame = pd.read_parquet(path, columns=["id", "createdAt"])
        created = pd.to_datetime(frame["createdAt"], utc=True).dt.tz_localize(None)
        inside = (
            frame["id"].str.split("/").str[0].isin(authors)
            & (created >= pd.Timestamp(day))
            & (created < pd.Timestamp(day + timedelta(days=7)))
        )
        counts[f"{middle:%Y-%m}"] += int(inside.sum())
    return dict(counts)


def test_baidu_2025_goes_from_none_to_over_a_hundred(world, archive):
    text = ask(world, "baidu 2025").text
    expected = pandas_by_month(archive, {"baidu"}, date(2025, 1, 1), date(2026, 1, 1))
    rows = month_rows(text)
    assert list(rows) == [f"2025-{m:02d}" for m in range(1, 13)]
    assert {month: n for month, n in rows.items() if n} == expected
    total = sum(expected.values())
    scheduled = sum(releases_in(w)["baidu"] for w in WEEKS if (w + timedelta(3)).year == 2025)
    assert total == scheduled + 1 > 100  # and the one withdrawn a week later
    assert text.startswith("*Releases by month: Baidu, 2025*")
    assert f"*{total}* new repos by Baidu in 2025, from 0 in Jan 2025 to " in text
    assert "Months with none: Jan to May 2025." in text
    assert f"• Dec 2025 · *{expected['2025-12']}* " in text
    assert f" · {total} so far\n" in text
    assert "Counted from 51 archived weeks of `hfmlsoc/hub_weekly_snapshots`" in text
    assert "(the weeks of 30 Dec 2024 to 22 Dec 2025)" in text
    assert "A week spanning two months counts in the month holding most of its days." in text
    assert "Repos Baidu published itself: fine-tunes of its models by others" in text
    assert "the week of 14 Apr 2025." in text  # missing, whatever the org


def test_the_first_and_latest_are_named_from_our_own_snapshot(world, archive):
    frame = pandas_models(archive)
    baidu = frame[(frame["author"] == "baidu") & (frame["id"] != DELETED)]
    start, end = pd.Timestamp("2025-01-01", tz="UTC"), pd.Timestamp("2026-01-01", tz="UTC")
    in_2025 = baidu[(baidu["created"] >= start) & (baidu["created"] < end)]
    first = in_2025.sort_values("created").iloc[0]
    latest = in_2025.sort_values("created").iloc[-1]
    text = ask(world, "baidu 2025").text
    assert (
        f"First: `{first['id']}` ({first['created'].day} {first['created']:%b %Y})"
        f" · latest: `{latest['id']}` ({latest['created'].day} {latest['created']:%b %Y})"
    ) in text
    assert "First and latest named from hubpulse's own snapshots (as of 9 Mar 2026)." in text


def test_china_since_january_sums_its_registered_orgs(world, archive):
    text = ask(world, "cn since 2025-01").text
    china = {org.org for org in load_registry() if org.country == "CN"}
    expected = pandas_by_week(archive, china, date(2025, 1, 1), NOW.date())
    assert month_rows(text) == {
        month: expected.get(month, 0) for month in (f"{m:%Y-%m}" for m in _months())
    }
    assert sum(expected.values()) == int(re.search(r"^\*([\d,]+)\* new repos", text, re.M)[1])
    # The missing week's repos (three by Qwen, one by PaddlePaddle) are in later files, but
    # only a week's own file counts its releases:
    by_creation = pandas_by_month(archive, china, date(2025, 1, 1), NOW.date())
    uncounted = sum(n for author, n in releases_in(MISSING).items() if author in china)
    assert sum(by_creation.values()) - sum(expected.values()) == uncounted == 4
    assert "Missing from the history (not archived, failed to import, or without creation" in text
    assert "the week of 14 Apr 2025." in text
    assert re.search(r"^• Apr 2025 · \*\d+\* \S+ · \d+ so far · 1 week missing$", text, re.M)
    assert "someone" not in text  # unregistered
    per_org = {
        name: sum(pandas_by_week(archive, {org}, date(2025, 1, 1), NOW.date()).values())
        for org, name in (
            ("baidu", "Baidu"),
            ("Qwen", "Alibaba Qwen"),
            ("PaddlePaddle", "Baidu PaddlePaddle"),
        )
    }
    assert "Most releases: " + " · ".join(f"{n} {c}" for n, c in per_org.items()) in text
    assert per_org["Baidu"] > per_org["Alibaba Qwen"] > per_org["Baidu PaddlePaddle"]
    assert f"The sum of {len(china)} registered orgs: unregistered orgs" in text
    assert "Days from 2 Mar 2026 on are not archived yet: `/releases cn 30`" in text
    # The latest is named within the counted weeks: not the repo of 5 Mar 2026.
    frame = pandas_models(archive)
    counted = frame[
        frame["author"].isin(china) & (frame["created"] < pd.Timestamp("2026-03-02", tz="UTC"))
    ]
    latest = counted.sort_values("created").iloc[-1]["id"]
    assert f"latest: `{latest}` (" in text
    assert AFTER_THE_ARCHIVE not in text


def _months() -> list[date]:
    months, month = [], date(2025, 1, 1)
    while month <= date(2026, 2, 1):
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def test_all_registered_orgs_and_a_quarter(world, archive):
    registered = {org.org for org in load_registry()}
    text = ask(world, "2025-q3").text
    assert text.startswith("*Releases by month: registered orgs, 2025-Q3*")
    assert month_rows(text) == pandas_by_month(
        archive, registered, date(2025, 7, 1), date(2025, 10, 1)
    )


def test_a_period_before_the_archive_and_one_it_only_partly_covers(world):
    with pytest.raises(UserError) as caught:
        ask(world, "baidu 2023")
    assert caught.value.message == (
        "No archived week falls in 2023: the history has the weeks of 2 Dec 2024 to 23 Feb 2026."
    )
    text = ask(world, "qwen all-time").text
    assert "The history begins with the week of 2 Dec 2024: releases before it are not" in text
    assert month_rows(text)["2024-12"] == 8


def test_a_week_spanning_two_months_counts_where_most_of_its_days_are(tmp_path, sqlite_engine):
    # The week of Mon 29 Sep 2025 has two days in September and five in October.
    created = {
        "baidu/a": datetime(2025, 9, 24, tzinfo=UTC),  # week of 22 Sep: September
        "baidu/b": datetime(2025, 9, 29, 9, tzinfo=UTC),  # week of 29 Sep: October
        "baidu/c": datetime(2025, 9, 30, 9, tzinfo=UTC),  # week of 29 Sep: October
        "baidu/d": datetime(2025, 10, 3, 9, tzinfo=UTC),  # week of 29 Sep: October
    }
    weeks = [date(2025, 9, 22), date(2025, 9, 29)]
    import_archive(sqlite_engine, write_archive(tmp_path, created, weeks))
    text = ask(sqlite_engine, "baidu since 2025-09").text
    assert month_rows(text) == {"2025-09": 1, "2025-10": 3}
    # No snapshot of our own: counted anyway, not named.
    assert "hubpulse has no snapshot of its own yet, so the first and latest" in text


def test_a_week_without_creation_dates_is_missing_not_zero(tmp_path, engine):
    created = {f"baidu/m{i}": datetime(2025, 3, 4 + 7 * i, tzinfo=UTC) for i in range(3)}
    weeks = [date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 17)]
    root = write_archive(tmp_path, created, weeks)
    undated = root / "models" / "2025-03-10" / "models.parquet"
    pq.write_table(pq.read_table(undated).drop(["createdAt"]), undated)
    import_archive(engine, root)
    store_snapshot(engine, created)
    text = ask(engine, "baidu 2025").text
    assert month_rows(text) == {"2025-03": 2}
    assert "the week of 10 Mar 2025." in text
    assert "First: `baidu/m0` (4 Mar 2025) · latest: `baidu/m2` (18 Mar 2025)" in text


def test_demo_weeks_are_labelled_illustrative(tmp_path, sqlite_engine):
    created = {"baidu/a": datetime(2025, 9, 24, tzinfo=UTC)}
    archive = LocalArchive(write_archive(tmp_path, created, [date(2025, 9, 22)]))
    archive.label = f"{DEMO_PREFIX} (illustrative data, not live Hub figures)"
    assert not backfill(sqlite_engine, archive, load_registry(), clock=FrozenClock(NOW)).failed
    answer = ask(sqlite_engine, "baidu 2025 public")
    assert answer.in_channel is True
    assert "*illustrative demo data*: real names, invented figures" in answer.text


def test_no_history_yet(sqlite_engine):
    store_snapshot(sqlite_engine, {"baidu/x": datetime(2025, 3, 1, tzinfo=UTC)})
    with pytest.raises(UserError) as caught:
        ask(sqlite_engine, "baidu 2025")
    assert caught.value.message == (
        "There is no whole-Hub history yet (`hubpulse backfill` imports it); "
        "`/releases baidu 30` lists the last 30 days."
    )


def test_an_unregistered_org_is_not_counted_and_says_so(world):
    with pytest.raises(UserError) as caught:
        ask(world, "someone 2025")
    assert caught.value.message == (
        "`someone` is not a registered org: the archive counts the releases of registered "
        "orgs only."
    )


def test_a_country_without_registered_orgs(world):
    # A country hubpulse knows by name that no registered org is from, whatever the registry
    # has gained since: derived from it, not named here.
    registry = load_registry()
    with_orgs = {org.country for org in registry}
    empty = [
        name
        for code, name in sorted(COUNTRY_NAMES.items())
        if code not in with_orgs | REGION_ONLY | {UNKNOWN_COUNTRY}
        and not registered_orgs(registry, name)
    ]
    assert empty, "every known country has a registered org: nothing left to test this with"
    with pytest.raises(UserError) as caught:
        ask(world, f"{empty[0]} 2025")
    assert caught.value.message == (
        f"No registered org is from {empty[0]}: the archive counts registered orgs only."
    )


@pytest.mark.parametrize(
    ("name", "label", "region"),
    [("eu", "European Union (registered orgs)", "eu"), ("europe", None, "eu")],
)
def test_a_region_sums_its_registered_orgs(world, archive, name, label, region):
    text = ask(world, f"{name} since 2025-01").text
    orgs = {org.org for org in load_registry().in_region(region)}
    assert {"mistralai", "black-forest-labs"} <= orgs
    assert "Qwen" not in orgs
    expected = pandas_by_week(archive, orgs, date(2025, 1, 1), NOW.date())
    assert month_rows(text) == {
        month: expected.get(month, 0) for month in (f"{m:%Y-%m}" for m in _months())
    }
    total = sum(expected.values())
    assert total > 0
    assert f"*{total}* new repos by European Union (registered orgs) since 1 Jan 2025" in text
    per_org = {
        name: sum(pandas_by_week(archive, {org}, date(2025, 1, 1), NOW.date()).values())
        for org, name in (("mistralai", "Mistral AI"), ("black-forest-labs", "Black Forest Labs"))
    }
    assert (
        "Most releases: "
        + " · ".join(f"{n} {c}" for n, c in sorted(per_org.items(), key=lambda item: -item[1]))
        in text
    )
    assert f"The sum of {len(orgs)} registered orgs" in text
    if label is not None:
        assert text.startswith(f"*Releases by month: {label}, since 1 Jan 2025*")


def test_a_name_of_several_orgs_sums_them(world, archive):
    registry = load_registry()
    orgs = {org.org for org in registered_orgs(registry, "阿里巴巴")}
    assert "Qwen" in orgs
    assert len(orgs) > 1
    text = ask(world, "阿里巴巴 2025").text
    expected = pandas_by_week(archive, orgs, date(2025, 1, 1), date(2026, 1, 1))
    assert {month: n for month, n in month_rows(text).items() if n} == expected
    assert text.startswith("*Releases by month: 阿里巴巴, 2025*")
    assert f"The sum of {len(orgs)} registered orgs" in text


@pytest.mark.parametrize(
    "hostile",
    [
        "<!channel> 2025",
        "<@U123> since 2025-01",
        "&" * 10_000 + " 2025",
        "\u202e 2025",
        "cn -<!here>",
        "baidu since <!channel>",
        "<!everyone> family",
    ],
)
def test_hostile_input(world, hostile):
    with pytest.raises(UserError) as caught:
        ask(world, hostile)
    assert "<" not in caught.value.message
    assert "\u202e" not in caught.value.message
    assert len(caught.value.message) < 600


def test_help_lists_the_period_forms(world):
    text = ask(world, "help").text
    assert "`/releases baidu 2025`" in text
    assert "`/releases cn since 2025-01`" in text
