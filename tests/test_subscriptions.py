"""Subscriptions and digest settings: the commands, their errors, and workspace isolation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.channels import digest_schedule, subscriptions
from bot.channels.channel import Channel
from bot.channels.forget import forget_workspace
from bot.channels.subscriptions import (
    COUNTRY,
    CREATED,
    EVERY_FEATURE,
    ORG,
    RELEASES,
    SHARE,
    UNCHANGED,
    UPDATED,
    Target,
)
from bot.core.errors import UserError
from commands import digest as digest_command
from commands import subscribe, unsubscribe
from commands import subscriptions as subscriptions_command
from tests.fakes.slack import FakeSlack
from tests.hubworld import CHANNEL, TEAM, USER, World, installed_world
from tests.slack_harness import BOT_TOKEN, SlackHarness

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
HERE = Channel(TEAM, CHANNEL)
ONLY_RELEASES, ONLY_SHARE = frozenset({RELEASES}), frozenset({SHARE})


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with installed_world(tmp_path) as opened:
        yield opened


def test_storage_updates_resubscriptions_and_keeps_workspaces_apart(engine: Engine) -> None:
    qwen, china = Target(ORG, "Qwen"), Target(COUNTRY, "CN")
    other_team = Channel("T2", CHANNEL)  # the same channel id in another workspace
    assert subscriptions.subscribe(engine, HERE, qwen, ONLY_RELEASES, "U1", NOW).outcome == CREATED
    again = subscriptions.subscribe(engine, HERE, qwen, ONLY_RELEASES, "U2", NOW)
    assert again.outcome == UNCHANGED
    change = subscriptions.subscribe(engine, HERE, qwen, ONLY_SHARE, "U2", NOW)
    assert change.outcome == UPDATED
    assert change.previous_features == ONLY_RELEASES
    assert change.subscription.features == EVERY_FEATURE  # features add up
    assert change.subscription.added_by == "U1"
    subscriptions.subscribe(engine, HERE, china, ONLY_SHARE, "U1", NOW, share=(0.4, 1))
    subscriptions.subscribe(engine, other_team, qwen, ONLY_RELEASES, "U9", NOW)
    listed = subscriptions.for_channel(engine, HERE)
    assert [s.target.label for s in listed] == ["China", "Qwen"]  # alphabetical
    assert listed[0].share_baseline == 0.4
    assert [s.added_by for s in subscriptions.for_channel(engine, other_team)] == ["U9"]
    assert subscriptions.unsubscribe(engine, other_team, china, NOW) is None
    assert subscriptions.unsubscribe(engine, other_team, qwen, NOW) is not None
    assert len(subscriptions.for_channel(engine, HERE)) == 2
    assert {s.channel.team_id for s in subscriptions.for_workspace(engine, TEAM)} == {TEAM}


def test_subscribe_confirms_in_channel_and_resolves_families_and_countries(world: World) -> None:
    answer = world.run(subscribe.COMMAND, "qwen")
    assert answer.in_channel
    assert "Subscribed this channel to *Qwen* (org `Qwen`): new releases" in answer.text
    assert f"<@{USER}>" in answer.text
    assert (
        "*United States* (country `US`): share moves."
        in world.run(subscribe.COMMAND, "usa share").text
    )
    assert "`deepseek-ai`" in world.run(subscribe.COMMAND, "DeepSeek all").text
    updated = world.run(subscribe.COMMAND, "qwen all")
    assert updated.text == (
        ":white_check_mark: Added share moves to this channel's subscription to *Qwen* "
        f"(org `Qwen`): now new releases and share moves. Changed by <@{USER}>."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("qwne", "no org or model called `qwne`; did you mean `Qwen`?"),
        ("deepseek-ai/DeepSeek-V3", "is a model: subscribe to its org, `/subscribe deepseek-ai`"),
        ("qwen everything", "no org or model called `qwen everything`"),
        ("<!channel>", "no org or model called `&lt;!channel&gt;`"),
    ],
)
def test_subscribe_errors_are_specific_and_escaped(world: World, text: str, expected: str) -> None:
    with pytest.raises(UserError) as raised:
        world.run(subscribe.COMMAND, text)
    assert expected in raised.value.message
    assert "<!channel>" not in raised.value.message


def test_a_duplicate_subscription_is_an_error_that_says_how_to_stop(world: World) -> None:
    world.run(subscribe.COMMAND, "deepseek-ai")
    with pytest.raises(UserError) as raised:
        world.run(subscribe.COMMAND, "deepseek")
    assert "already subscribed to *deepseek-ai*" in raised.value.message
    assert "(org `deepseek-ai`) for new releases." in raised.value.message
    assert "`/unsubscribe deepseek-ai`" in raised.value.message


def test_unsubscribe_removes_or_explains_in_github_style(world: World) -> None:
    world.run(subscribe.COMMAND, "china")
    answer = world.run(unsubscribe.COMMAND, "China")
    assert answer.in_channel
    assert "Unsubscribed this channel from *China*" in answer.text
    assert answer.text == "Unsubscribed this channel from *China* (country `CN`)."
    with pytest.raises(UserError) as raised:
        world.run(unsubscribe.COMMAND, "qwen")
    assert raised.value.message == (
        "You're not subscribed to `qwen` here. Use `/subscribe qwen` to subscribe."
    )


def test_the_list_is_alphabetical_in_channel_with_settings_and_who_added_them(
    world: World,
) -> None:
    world.run(subscribe.COMMAND, "qwen all", user_id="U2")
    world.run(subscribe.COMMAND, "deepseek-ai")
    world.run(subscribe.COMMAND, "china share")
    world.run(digest_command.COMMAND, "on friday 16:00 Europe/Paris")
    listed = world.run(subscribe.COMMAND, "list")
    assert listed.in_channel
    assert listed.text == world.run(subscriptions_command.COMMAND, "").text
    text = listed.text
    assert text.index("*China*") < text.index("*deepseek-ai*") < text.index("*Qwen*")
    assert "*Qwen* (org `Qwen`): new releases and share moves · added by <@U2>" in text
    assert "Fridays at 16:00 (Europe/Paris)" in text
    only_share = world.run(subscribe.COMMAND, "list share").text
    assert "*China*" in only_share
    assert "*Qwen*" in only_share
    assert "deepseek-ai" not in only_share


def test_no_workspace_sees_or_changes_another_workspaces_subscriptions(world: World) -> None:
    world.run(subscribe.COMMAND, "qwen")
    world.run(digest_command.COMMAND, "on")
    elsewhere = {"team_id": "T2"}  # same channel id, another workspace
    assert "no subscriptions" in world.run(subscriptions_command.COMMAND, "", **elsewhere).text
    with pytest.raises(UserError):
        world.run(unsubscribe.COMMAND, "qwen", **elsewhere)
    assert "no weekly digest" in world.run(digest_command.COMMAND, "status", **elsewhere).text
    with pytest.raises(UserError):
        world.run(digest_command.COMMAND, "off", **elsewhere)
    world.run(subscribe.COMMAND, "qwen all", **elsewhere)
    (mine,) = subscriptions.for_channel(world.engine, HERE)
    assert mine.features == ONLY_RELEASES
    assert digest_schedule.get(world.engine, HERE) is not None


def test_digest_on_defaults_to_monday_nine_in_the_users_timezone(world: World) -> None:
    answer = world.run(digest_command.COMMAND, "on", tz="America/New_York")
    assert answer.in_channel
    assert "Mondays at 09:00 (America/New_York)" in answer.text
    assert "Next: Monday 5 Jan 2026 09:00 (America/New_York)" in answer.text
    config = digest_schedule.get(world.engine, HERE)
    assert config is not None
    assert (config.weekday, config.time, config.timezone) == ("mon", "09:00", "America/New_York")
    world.run(digest_command.COMMAND, "on sat 7:30 asia/tokyo", tz="America/New_York")
    config = digest_schedule.get(world.engine, HERE)
    assert config is not None
    assert config.spec == "sat 07:30 Asia/Tokyo"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("on 1 09:00", "`1` is not a day or a time: name the day (`monday`)"),
        ("on monday 25:00", "`25:00` is not a time (`9am`, `9:30pm`, or 24-hour `17:30`)."),
        ("on monday 13pm", "`13pm` is not a time"),
        ("on funday", "`funday` is not a day (`monday`, `fri`...)"),
        ("on monday Mars/Olympus", "`Mars/Olympus` is not an IANA timezone"),
        ("on monday friday", "`friday` is a second day: give one."),
        ("sometimes", "`sometimes` is not one of `on`, `off`, `preview`, `status`."),
        ("off now", "`off` takes nothing after it; `now` is extra."),
    ],
)
def test_digest_errors_name_the_argument_and_show_the_usage(
    world: World, text: str, expected: str
) -> None:
    with pytest.raises(UserError) as raised:
        world.run(digest_command.COMMAND, text)
    message = raised.value.message
    assert message.startswith(expected)
    assert "\n" not in message  # one line
    assert f"Usage: `{digest_command.COMMAND.usage}`" in message
    assert digest_schedule.get(world.engine, HERE) is None  # nothing written


def test_digest_off_and_status(world: World) -> None:
    assert "no weekly digest" in world.run(digest_command.COMMAND, "status").text
    world.run(digest_command.COMMAND, "on tuesday 08:15 UTC")
    status = world.run(digest_command.COMMAND, "status")
    assert not status.in_channel
    assert "Tuesdays at 08:15 (UTC)" in status.text
    assert "Next run:* Tuesday 6 Jan 2026 08:15 (UTC)" in status.text
    assert "off in this channel" in world.run(digest_command.COMMAND, "off").text
    with pytest.raises(UserError) as raised:
        world.run(digest_command.COMMAND, "off")
    assert "not on in this channel" in raised.value.message
    assert "*off*" in world.run(digest_command.COMMAND, "status").text


def test_commands_outside_slack_explain_that_they_need_a_channel(world: World) -> None:
    with pytest.raises(UserError) as raised:
        world.run(subscribe.COMMAND, "qwen", team_id="", channel_id="")
    assert "belong to a Slack channel" in raised.value.message


def test_forgetting_a_workspace_deletes_only_its_rows(world: World) -> None:
    world.run(subscribe.COMMAND, "qwen")
    world.run(digest_command.COMMAND, "on")
    world.run(subscribe.COMMAND, "qwen", team_id="T2")
    forgotten = forget_workspace(world.engine, TEAM)
    assert (forgotten.subscriptions, forgotten.digests) == (1, 1)
    assert subscriptions.for_workspace(world.engine, TEAM) == []
    assert len(subscriptions.for_workspace(world.engine, "T2")) == 1


def test_over_http_subscribe_posts_in_channel_and_uninstall_forgets_the_workspace(
    sqlite_engine: Engine,
) -> None:
    with FakeSlack() as fake:
        fake.add_workspace(TEAM, BOT_TOKEN)
        fake.add_channel(TEAM, CHANNEL)
        fake.add_user(TEAM, USER, tz="Europe/Berlin")
        with SlackHarness(fake, sqlite_engine) as app:
            assert app.post_command("/subscribe", "deepseek-ai").status == 200
            fake.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls))
            assert app.post_command("/digest", "on").status == 200
            fake.wait_for(lambda calls: sum(c.method == "chat.postMessage" for c in calls) >= 2)
            config = digest_schedule.get(sqlite_engine, HERE)
            assert config is not None
            assert config.timezone == "Europe/Berlin"  # the user's Slack timezone
            assert app.post_event({"type": "app_uninstalled"}).status == 200
        assert subscriptions.for_workspace(sqlite_engine, TEAM) == []
        assert digest_schedule.get(sqlite_engine, HERE) is None
