"""The weekly digest: its content, its chart, old news never repeated, and never sent twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.channels import digest_schedule
from bot.channels.channel import Channel
from bot.cli import main
from bot.delivery.sender import RETRY, SENT
from bot.jobs import send as dispatch
from bot.jobs import tasks as jobs
from commands import digest as digest_command
from commands import subscribe
from tests.hubworld import CHANNEL, TEAM, World, installed_world

HERE = Channel(TEAM, CHANNEL)
DAY = timedelta(days=1)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with installed_world(tmp_path) as opened:
        opened.run(digest_command.COMMAND, "on monday 09:00 UTC")
        yield opened


def _digest_at_nine(world: World) -> dispatch.DigestReport:
    """Move to the next Monday 09:00 UTC and run the digest job there."""
    now = world.clock.now()
    days = (7 - now.weekday()) % 7
    target = (now + timedelta(days=days)).replace(hour=9, minute=0, second=0)
    if target < now:
        target += timedelta(days=7)
    world.clock.set(target)
    config = digest_schedule.get(world.engine, HERE)
    assert config is not None
    return dispatch.send_digest(world.runtime, config, scheduled=True)


def _a_week_of_news(world: World) -> None:
    """Daily refreshes from Monday 09:00 to the next Monday morning, with releases of
    several kinds."""
    for day in range(6):
        world.clock.advance(DAY)
        if day == 1:
            world.release("Qwen/Qwen4-32B", downloads=90_000, likes=500)
            world.release("Qwen/Qwen4-7B", downloads=60_000, likes=300)
            world.release("Qwen/Qwen4-1B", downloads=50_000, likes=100)
            world.release("Qwen/Qwen4-0.5B", downloads=40_000, likes=90)
            world.release(
                "unsloth/Qwen4-32B-GGUF",
                downloads=80_000,
                parents=["Qwen/Qwen4-32B"],
                relation="quantized",
                extra_tags=["gguf"],
            )
            world.release("Qwen/tiny-test", downloads=3, likes=0)
        if day == 3:
            world.release("deepseek-ai/DeepSeek-V4", downloads=200_000, likes=2000)
            world.release("meta-llama/Llama-5-8B", downloads=70_000, likes=400)
            world.hub.set_downloads("Qwen/Qwen2.5-7B-Instruct", 12_000_000)
        world.refresh()
    world.clock.advance(timedelta(hours=21))  # Monday 06:00: a snapshot in the new week
    world.refresh()


def test_the_digest_reports_the_week_grouped_and_ranked_with_share_moves(world: World) -> None:
    assert _digest_at_nine(world).outcome == SENT
    _a_week_of_news(world)
    report = _digest_at_nine(world)
    assert report.outcome == SENT
    assert not report.late
    message = world.posts()[-1]
    text = message["text"]
    china = text[text.index("New from China") : text.index("New from United States")]
    # Grouped by org, most notable first; DeepSeek's single release outranks Qwen's best.
    assert china.index("DeepSeek") < china.index("Alibaba Qwen")
    assert china.index("Qwen4-32B") < china.index("Qwen4-7B") < china.index("Qwen4-1B")
    assert "and 1 more" in china  # Qwen4-0.5B: three shown per org
    assert "tiny-test" not in china
    assert "1 tiny repo" in china
    us = text[text.index("New from United States") :]
    assert "Llama-5-8B" in us
    assert "Qwen4-32B-GGUF" not in text
    assert "1 third-party quantization" in us  # unsloth is a US org
    # CN vs US share in both attributions, with the change since the last digest.
    assert "By publisher" in text
    assert "By lineage" in text
    assert text.count(" pp)") >= 4
    assert "Biggest movers" in text
    assert ":arrow_up_small: Alibaba Qwen +" in text
    # The chart of the last weeks arrives in the message's thread.
    (upload,) = world.slack.calls_to("files.completeUploadExternal")
    assert upload.params["thread_ts"] == message["ts"]
    png = next(iter(world.slack.files.values()))
    assert png.startswith(b"\x89PNG")
    assert len(message["blocks"]) <= 50


def test_with_no_new_snapshot_since_the_last_digest_it_says_so(world: World) -> None:
    assert _digest_at_nine(world).outcome == SENT
    world.clock.advance(DAY)  # the crawler stops: no refresh all week
    assert _digest_at_nine(world).outcome == SENT
    first, second = world.texts()
    assert "Share of Hub downloads" in first
    assert "No new Hub snapshot since the last digest" in second
    assert "New from China" not in second


def test_a_late_digest_says_when_it_was_due(world: World) -> None:
    _digest_at_nine(world)
    world.clock.advance(7 * DAY + timedelta(hours=5))
    world.refresh()
    config = digest_schedule.get(world.engine, HERE)
    assert config is not None
    report = dispatch.send_digest(world.runtime, config, scheduled=True)
    assert report.outcome == SENT
    assert report.late
    assert "Late: this digest was due Monday 12 Jan 09:00 (UTC)" in world.texts()[-1]
    assert "Late" not in world.texts()[0]


def test_the_digest_is_never_sent_twice_in_a_period(world: World) -> None:
    assert _digest_at_nine(world).outcome == SENT
    world.clock.advance(timedelta(hours=30))  # Tuesday: still Monday's period
    world.refresh()
    jobs.digest_job(TEAM, CHANNEL, runtime=world.runtime)
    reports = dispatch.send_digests(world.runtime)
    assert [r.outcome for r in reports] == [dispatch.SENT_ALREADY]
    assert len(world.posts()) == 1


def _cli_environment(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(
        "HUBPULSE_DATABASE_URL", world.engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("SLACK_BOT_TOKEN", world.tokens[TEAM])
    monkeypatch.setenv("SLACK_API_URL", world.slack.api_url)
    monkeypatch.chdir(tmp_path)  # no developer .env is read


def test_digest_send_on_the_command_line_posts_once_per_period(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _cli_environment(world, monkeypatch, tmp_path)
    cli = CliRunner()
    first = cli.invoke(main, ["digest", "send", "--team", TEAM])
    assert first.exit_code == 0, first.output
    assert "1 sent" in first.output
    second = cli.invoke(main, ["digest", "send"])
    assert second.exit_code == 0, second.output
    assert "already sent" in second.output
    assert "Nothing posted" in second.output
    assert len(world.posts()) == 1
    unknown = cli.invoke(main, ["digest", "send", "--channel", "C-NOPE"])
    assert unknown.exit_code == 2
    assert "no digest is on" in unknown.output


def test_alerts_send_on_the_command_line_posts_pending_alerts_once(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    world.run(subscribe.COMMAND, "deepseek-ai")
    jobs.alerts_job(runtime=world.runtime)
    world.clock.advance(timedelta(hours=6))
    world.release("deepseek-ai/DeepSeek-V4")
    world.refresh()
    _cli_environment(world, monkeypatch, tmp_path)
    cli = CliRunner()
    first = cli.invoke(main, ["alerts", "send"])
    assert first.exit_code == 0, first.output
    assert "1 sent" in first.output
    second = cli.invoke(main, ["alerts", "send"])
    assert second.exit_code == 0, second.output
    assert "Nothing to post" in second.output
    assert len(world.texts()) == 1


def test_preview_is_private_and_shows_the_digest_now(world: World) -> None:
    answer = world.run(digest_command.COMMAND, "preview")
    assert not answer.in_channel
    assert "Weekly open-model digest" in answer.text
    assert "Share of Hub downloads" in answer.text
    assert world.posts() == []


def test_status_says_when_the_last_digest_waits_for_a_retry(world: World) -> None:
    world.slack.fail_http("chat.postMessage", 503, times=1)
    report = _digest_at_nine(world)
    assert report.outcome == RETRY
    status = world.run(digest_command.COMMAND, "status").text
    assert "*Last run:* Monday" in status
    assert "The last digest is waiting to be retried (" in status
    world.clock.advance(timedelta(minutes=2))
    assert [a.outcome for a in dispatch.retry_due(world.runtime)] == [SENT]
    assert "waiting to be retried" not in world.run(digest_command.COMMAND, "status").text
