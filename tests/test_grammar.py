"""The grammar of the Slack apps teams already use (GitHub's): one namespace, features that
add up and come off one by one, read from the end; day names and 12-hour times for digests;
argument errors that name the argument and show the usage line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels import digest_schedule, subscriptions
from bot.channels.channel import Channel
from bot.channels.pausing import MAX_FAILURES, record_failure
from bot.channels.subscriptions import EVERY_FEATURE, ORG, RELEASES, Target
from bot.core.errors import UserError
from commands import all_commands, hubpulse, subscribe, unsubscribe
from commands import digest as digest_command
from commands import subscriptions as subscriptions_command
from commands.dispatch import dispatch
from tests.hubworld import CHANNEL, TEAM, USER, World, installed_world

HERE = Channel(TEAM, CHANNEL)
QWEN = Target(ORG, "Qwen")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with installed_world(tmp_path) as opened:
        yield opened


def features(world: World, target: Target = QWEN) -> frozenset[str] | None:
    found = subscriptions.get(world.engine, HERE, target)
    return found.features if found else None


# ---------------------------------------------------------------- /hubpulse <command>


def test_every_command_answers_the_same_under_hubpulse(world: World) -> None:
    for text in ("share qwen", "lineage qwen", "releases china", "share help"):
        verb, _, rest = text.partition(" ")
        direct = dispatch(f"/{verb} {rest}", world.context())
        assert world.run(hubpulse.COMMAND, text).text == direct.text
    public = world.run(hubpulse.COMMAND, "share qwen public")
    assert public.in_channel


def test_the_verbs_are_the_registry(world: World) -> None:
    verbs = hubpulse.verbs()
    assert list(verbs) == [c.name[1:] for c in all_commands() if c.name != "/hubpulse"]
    assert verbs["digest"] is digest_command.COMMAND


def test_an_unknown_verb_is_named_with_the_verbs_on_one_line(world: World) -> None:
    with pytest.raises(UserError) as raised:
        world.run(hubpulse.COMMAND, "frobnicate <!channel>")
    message = raised.value.message
    listed = ", ".join(f"`{c.name[1:]}`" for c in all_commands() if c.name != "/hubpulse")
    assert message.startswith(f"`frobnicate` is not a hubpulse command; the commands are {listed}.")
    assert "Usage: `/hubpulse &lt;command&gt; [arguments] | help [command]`" in message
    assert "\n" not in message
    assert "<!channel>" not in message


def test_hubpulse_help_lists_everything_and_help_of_a_verb_shows_that_command(
    world: World,
) -> None:
    overview = world.run(hubpulse.COMMAND, "help").text
    assert overview == world.run(hubpulse.COMMAND, "").text
    assert "Every command also works after `/hubpulse`" in overview
    assert "`/hubpulse share qwen`" in overview
    digest_help = world.run(hubpulse.COMMAND, "help digest").text
    assert digest_help == world.run(digest_command.COMMAND, "help").text
    assert "`/hubpulse digest ...` works the same as `/digest ...`" in digest_help
    with pytest.raises(UserError, match="`nope` is not a hubpulse command"):
        world.run(hubpulse.COMMAND, "help nope")


def test_subscribing_through_the_namespace_writes_the_same_rows(world: World) -> None:
    answer = world.run(hubpulse.COMMAND, "subscribe qwen releases share")
    assert answer.in_channel
    assert features(world) == EVERY_FEATURE
    world.run(hubpulse.COMMAND, "digest on friday 9am")
    config = digest_schedule.get(world.engine, HERE)
    assert config is not None
    assert (config.weekday, config.time) == ("fri", "09:00")


# ---------------------------------------------------------------- features as a set


def test_several_features_at_once_are_read_from_the_end(world: World) -> None:
    answer = world.run(subscribe.COMMAND, "qwen releases share")
    assert answer.text.startswith(
        ":white_check_mark: Subscribed this channel to *Qwen* (org `Qwen`): "
        "new releases and share moves."
    )
    assert features(world) == EVERY_FEATURE
    assert [s.target for s in subscriptions.for_channel(world.engine, HERE)] == [QWEN]


def test_a_feature_adds_to_what_is_on(world: World) -> None:
    world.run(subscribe.COMMAND, "qwen releases")
    added = world.run(subscribe.COMMAND, "qwen share")
    assert added.text == (
        ":white_check_mark: Added share moves to this channel's subscription to *Qwen* "
        f"(org `Qwen`): now new releases and share moves. Changed by <@{USER}>."
    )
    assert features(world) == EVERY_FEATURE


def test_subscribing_again_without_a_feature_keeps_share_alerts(world: World) -> None:
    world.run(subscribe.COMMAND, "qwen all")
    with pytest.raises(UserError) as raised:
        world.run(subscribe.COMMAND, "qwen")
    assert "already subscribed to *Qwen* (org `Qwen`) for new releases and share moves" in (
        raised.value.message
    )
    assert features(world) == EVERY_FEATURE
    world.run(subscribe.COMMAND, "china share")
    world.run(subscribe.COMMAND, "china")  # the default is added, share stays
    assert features(world, Target("country", "CN")) == EVERY_FEATURE


def test_unsubscribing_one_feature_then_the_last(world: World) -> None:
    world.run(subscribe.COMMAND, "qwen releases share")
    answer = world.run(unsubscribe.COMMAND, "qwen share")
    assert answer.in_channel
    assert answer.text == (
        "Removed share moves from this channel's subscription to *Qwen* (org `Qwen`): "
        "it still gets new releases. `/unsubscribe Qwen` stops it."
    )
    assert features(world) == frozenset({RELEASES})
    with pytest.raises(UserError) as raised:
        world.run(unsubscribe.COMMAND, "qwen share")
    assert raised.value.message == (
        "This channel's subscription to *Qwen* (org `Qwen`) has no share moves: it gets "
        "new releases. Use `/unsubscribe Qwen` to stop it."
    )
    last = world.run(unsubscribe.COMMAND, "qwen releases")
    assert last.text == "Unsubscribed this channel from *Qwen* (org `Qwen`)."
    assert features(world) is None


def test_unsubscribing_without_a_feature_removes_all(world: World) -> None:
    world.run(subscribe.COMMAND, "qwen releases share")
    world.run(unsubscribe.COMMAND, "qwen")
    assert features(world) is None


def test_the_list_filters_by_any_feature_and_names_bad_ones(world: World) -> None:
    world.run(subscribe.COMMAND, "qwen releases")
    world.run(subscribe.COMMAND, "china share")
    only_share = world.run(subscriptions_command.COMMAND, "share").text
    assert "*China*" in only_share
    assert "*Qwen*" not in only_share
    assert "This channel follows (share moves)" in only_share
    with pytest.raises(UserError) as raised:
        world.run(subscribe.COMMAND, "list everything")
    assert raised.value.message.startswith(
        "`everything` is not a feature (`releases`, `share` or `all`). Usage: `/subscribe"
    )


def test_a_word_that_is_not_a_feature_stays_part_of_the_target(world: World) -> None:
    with pytest.raises(UserError) as raised:
        world.run(subscribe.COMMAND, "qwen everything share")
    assert "no org or model called `qwen everything`" in raised.value.message
    assert subscriptions.for_channel(world.engine, HERE) == []


# ---------------------------------------------------------------- /digest on: days and times


@pytest.mark.parametrize(
    ("text", "weekday", "time"),
    [
        ("on friday 9am", "fri", "09:00"),
        ("on fri 17:30", "fri", "17:30"),
        ("on monday 9:30pm", "mon", "21:30"),
        ("on 9am", "mon", "09:00"),  # the default day stays
        ("on FRIDAY 9AM", "fri", "09:00"),
        ("on 12am sundays", "sun", "00:00"),
        ("on wed 12pm", "wed", "12:00"),
        ("on tuesday 7 pm", "tue", "19:00"),
        ("on Thu", "thu", "09:00"),
    ],
)
def test_digest_on_takes_day_names_and_12_or_24_hour_times(
    world: World, text: str, weekday: str, time: str
) -> None:
    world.run(digest_command.COMMAND, text, tz="Europe/Berlin")
    config = digest_schedule.get(world.engine, HERE)
    assert config is not None
    assert (config.weekday, config.time, config.timezone) == (weekday, time, "Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("on monday 25:00", "`25:00` is not a time"),
        ("on friday 13pm", "`13pm` is not a time"),
        ("on funday", "`funday` is not a day"),
        ("on friday 0am", "`0am` is not a time"),
        ("on 9am 10am", "`10am` is a second time"),
    ],
)
def test_digest_on_refuses_bad_days_and_times_with_the_usage(
    world: World, text: str, problem: str
) -> None:
    with pytest.raises(UserError) as raised:
        world.run(digest_command.COMMAND, text)
    assert raised.value.message.startswith(problem)
    assert "Usage: `/digest on [day] [time] [timezone] | off | preview | status`" in (
        raised.value.message
    )
    assert digest_schedule.get(world.engine, HERE) is None


# ---------------------------------------------------------------- argument errors


@pytest.mark.parametrize(
    ("command", "text", "problem"),
    [
        (subscriptions_command.COMMAND, "everything", "`everything` is not a feature"),
        (subscriptions_command.COMMAND, "share releases", "Name at most one feature."),
        (subscribe.COMMAND, "list share extra", "`extra` is extra"),
        (digest_command.COMMAND, "preview now", "`preview` takes nothing after it"),
    ],
)
def test_argument_errors_name_the_argument_and_show_the_usage(
    world: World, command, text: str, problem: str
) -> None:
    with pytest.raises(UserError) as raised:
        world.run(command, text)
    message = raised.value.message
    assert message.startswith(problem)
    assert "Usage: `" in message
    assert "\n" not in message


def test_subscribing_again_resumes_a_paused_subscription_and_keeps_its_features(
    world: World,
) -> None:
    world.run(subscribe.COMMAND, "qwen all")
    with world.engine.begin() as connection:
        for _ in range(MAX_FAILURES):
            record_failure(connection, HERE, "channel_not_found", world.clock.now())
    paused = subscriptions.get(world.engine, HERE, QWEN)
    assert paused is not None
    assert paused.paused
    resumed = world.run(subscribe.COMMAND, "qwen")
    assert resumed.text == (
        ":white_check_mark: Resumed this channel's subscription to *Qwen* (org `Qwen`): "
        f"new releases and share moves. Resumed by <@{USER}>."
    )
    again = subscriptions.get(world.engine, HERE, QWEN)
    assert again is not None
    assert (again.paused, again.features) == (False, EVERY_FEATURE)


def test_hubpulse_help_can_be_posted_in_the_channel(world: World) -> None:
    assert world.run(hubpulse.COMMAND, "public").in_channel
    assert world.run(hubpulse.COMMAND, "help digest public").in_channel
    assert not world.run(hubpulse.COMMAND, "help").in_channel
