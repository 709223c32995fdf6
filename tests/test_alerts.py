"""Release and share alerts: matched, grouped one message per channel per refresh, sent once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.channels import alerts, subscriptions
from bot.channels import ledger as delivery
from bot.channels import pausing as channel_health
from bot.channels.channel import Channel
from bot.ingest import hub
from bot.jobs import send as dispatch
from bot.jobs import tasks as jobs
from bot.store.writer import begin_snapshot
from commands import subscribe
from tests.hubworld import CHANNEL, TEAM, World, installed_world

SIX_HOURS = timedelta(hours=6)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with installed_world(tmp_path) as opened:
        yield opened


def test_a_week_of_refreshes_posts_each_batch_of_releases_once(world: World) -> None:
    deepseek = world.add_channel(TEAM, "C-DEEPSEEK")
    china = world.add_channel(TEAM, "C-CHINA")
    world.run(subscribe.COMMAND, "deepseek-ai", channel_id=deepseek.channel_id)
    world.run(subscribe.COMMAND, "china", channel_id=china.channel_id)
    jobs.refresh_job(
        runtime=world.runtime
    )  # the first pass sets the watermark: nothing is news yet
    assert world.posts(deepseek.channel_id) == world.posts(china.channel_id) == []
    for step in range(28):  # every 6 hours for a week
        world.clock.advance(SIX_HOURS)
        if step == 3:
            world.release("deepseek-ai/DeepSeek-R2", downloads=50_000, likes=800)
        if step == 10:
            for i in range(40):
                world.release(f"Qwen/Qwen3-burst-{i:02d}", downloads=1000 + i * 100, likes=i)
        if step == 15:  # an old repo that only now shows up in the crawl: not a release
            world.hub.put(
                {**world.hub.get("Qwen/Qwen2.5-7B-Instruct"), "id": "Qwen/Qwen1.5-legacy"}  # type: ignore[dict-item]
            )
        if step == 20:
            world.release("deepseek-ai/DeepSeek-R2-Lite", downloads=9000)
            world.release("meta-llama/Llama-5-8B", downloads=70_000)
        jobs.refresh_job(runtime=world.runtime)

    deepseek_texts = world.texts(deepseek.channel_id)
    assert len(deepseek_texts) == 2
    assert "DeepSeek-R2" in deepseek_texts[0]
    assert "Lite" not in deepseek_texts[0]
    assert "DeepSeek-R2-Lite" in deepseek_texts[1]
    assert "Llama-5" not in deepseek_texts[1]

    china_texts = world.texts(china.channel_id)
    assert len(china_texts) == 3  # R2; the burst of 40 as ONE message; R2-Lite
    burst = china_texts[1]
    assert "40 new models" in burst
    assert "Qwen3-burst-39" in burst
    assert "Qwen3-burst-37" in burst
    assert "Qwen3-burst-00" not in burst
    assert "and 37 more" in burst
    assert not any("legacy" in text for text in china_texts)

    before = len(world.slack.calls_to("chat.postMessage"))
    dispatch.send_alerts(world.runtime)  # `hubpulse alerts send` after the fact
    jobs.alerts_job(runtime=world.runtime)
    assert len(world.slack.calls_to("chat.postMessage")) == before


def test_a_channel_matching_twice_gets_one_message_listing_each_model_once(world: World) -> None:
    world.run(subscribe.COMMAND, "deepseek-ai")
    world.run(subscribe.COMMAND, "china")
    world.run(subscribe.COMMAND, "qwen")  # a family, named by its root org
    jobs.refresh_job(runtime=world.runtime)
    world.clock.advance(SIX_HOURS)
    world.release("deepseek-ai/DeepSeek-V4", downloads=10_000)
    world.release("Qwen/Qwen4-7B", downloads=20_000)
    world.release("google/gemma-4", downloads=30_000)  # US: not followed here
    jobs.refresh_job(runtime=world.runtime)
    texts = world.texts()
    assert len(texts) == 1
    assert texts[0].count("|DeepSeek-V4>") == 1
    assert texts[0].count("|Qwen4-7B>") == 1
    assert "gemma-4" not in texts[0]
    assert "2 new models" in texts[0]


def test_share_alert_fires_when_the_move_reaches_the_threshold(world: World) -> None:
    jobs.refresh_job(runtime=world.runtime)
    world.run(subscribe.COMMAND, "meta-llama share")
    world.clock.advance(SIX_HOURS)
    jobs.refresh_job(runtime=world.runtime)  # nothing moved
    assert world.texts() == []
    world.hub.set_downloads("meta-llama/Llama-3.1-8B-Instruct", 16_000_000)
    world.clock.advance(SIX_HOURS)
    jobs.refresh_job(runtime=world.runtime)
    texts = world.texts()
    assert len(texts) == 1
    assert "Share of Hub downloads moved" in texts[0]
    assert "meta-llama" in texts[0]
    assert "+" in texts[0]
    assert "pp" in texts[0]
    world.clock.advance(SIX_HOURS)
    jobs.refresh_job(runtime=world.runtime)  # the baseline moved with the alert: no repeat
    assert len(world.texts()) == 1


def test_releases_only_subscription_ignores_share_moves(world: World) -> None:
    jobs.refresh_job(runtime=world.runtime)
    world.run(subscribe.COMMAND, "meta-llama releases")
    world.hub.set_downloads("meta-llama/Llama-3.1-8B-Instruct", 16_000_000)
    world.clock.advance(SIX_HOURS)
    jobs.refresh_job(runtime=world.runtime)
    assert world.texts() == []


def test_a_failed_refresh_sends_no_alerts(world: World) -> None:
    world.run(subscribe.COMMAND, "deepseek-ai")
    jobs.refresh_job(runtime=world.runtime)
    world.clock.advance(SIX_HOURS)
    world.release("deepseek-ai/DeepSeek-V4")
    working = world.api
    world.api = hub.connect("http://127.0.0.1:9", None)  # nothing listens there
    jobs.refresh_job(runtime=world.runtime)
    assert world.texts() == []
    world.api = working
    world.clock.advance(SIX_HOURS)
    jobs.refresh_job(runtime=world.runtime)
    assert len(world.texts()) == 1
    assert "DeepSeek-V4" in world.texts()[0]


def test_paused_subscriptions_get_no_alerts(world: World) -> None:
    world.run(subscribe.COMMAND, "deepseek-ai")
    jobs.refresh_job(runtime=world.runtime)
    channel = Channel(TEAM, CHANNEL)
    for _ in range(3):
        with world.engine.begin() as connection:
            channel_health.record_failure(connection, channel, "not_in_channel", world.clock.now())
    world.clock.advance(SIX_HOURS)
    world.release("deepseek-ai/DeepSeek-V4")
    jobs.refresh_job(runtime=world.runtime)
    assert world.texts() == []
    assert delivery.counts(world.engine) == {}


def test_alerts_are_planned_once_even_when_two_passes_race(world: World) -> None:
    world.run(subscribe.COMMAND, "deepseek-ai")
    jobs.refresh_job(runtime=world.runtime)
    world.clock.advance(SIX_HOURS)
    world.release("deepseek-ai/DeepSeek-V4")
    world.refresh()
    subs = subscriptions.active(world.engine)
    first = alerts.plan(world.reader, world.engine, subs, 0.5)
    second = alerts.plan(world.reader, world.engine, subs, 0.5)  # planned before either wrote
    assert alerts.enqueue(world.engine, first, world.registry, world.clock.now()) == 1
    assert alerts.enqueue(world.engine, second, world.registry, world.clock.now()) == 0
    jobs.alerts_job(runtime=world.runtime)
    jobs.alerts_job(runtime=world.runtime)
    assert len(world.texts()) == 1


def test_an_abandoned_refresh_is_not_a_snapshot_to_alert_about(world: World) -> None:
    world.run(subscribe.COMMAND, "deepseek-ai")
    jobs.refresh_job(runtime=world.runtime)
    begin_snapshot(world.engine, world.clock.now(), "killed", 50)  # a refresh that died
    jobs.alerts_job(runtime=world.runtime)
    assert world.texts() == []
