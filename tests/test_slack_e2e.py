"""The Slack app end to end: signed requests over real HTTP, answers asserted at the fake Slack.

Every Slack call goes through the real slack_sdk WebClient (``SLACK_API_URL`` -> FakeSlack) and
every request through the real slack_bolt app served by hubpulse's threaded WSGI server.
"""

from __future__ import annotations

import importlib
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, select

from bot.answers.message import Answer, Chart
from bot.answers.mrkdwn import escape
from bot.core.errors import UserError
from bot.slack.app import NOT_INSTALLED
from bot.slack.running import APOLOGY
from bot.store.slack_tables import installations
from commands import COMMAND_MODULES, all_commands
from commands.base import Command, Context
from tests.fakes.slack import Call, FakeSlack
from tests.slack_harness import (
    ACK_LIMIT_SECONDS,
    BOT_TOKEN,
    CHANNEL,
    CLIENT_ID,
    CLIENT_SECRET,
    SIGNING_SECRET,
    TEAM,
    USER,
    SlackHarness,
    share_action_payload,
    store_fixture_snapshots,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
POSTS = ("response_url", "chat.postMessage")
WAIT = 20.0


def probe_run(text: str, context: Context) -> Answer:
    """A command for the adapter's own cases: its words choose what happens."""
    words = text.split()
    if "boom" in words:
        raise RuntimeError("the probe exploded")
    if "bad" in words:
        raise UserError("no org called `bad`; did you mean `bert`?")
    snapshot = context.reader.latest()
    chart = None
    if "chart" in words and context.want_chart:
        chart = Chart(png=PNG, title="Probe chart", alt_text="A bar chart of nothing")
    return Answer(
        text=f"probe for {context.team_id}: snapshot {snapshot.id}, asked {escape(text)}",
        chart=chart,
        in_channel="public" in words,
    )


PROBE = Command(
    name="/probe",
    summary="Answers for the adapter's tests",
    usage="/probe [chart] [public]",
    examples=("/probe",),
    run=probe_run,
)


WITH_PROBE = (PROBE, *all_commands())


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        server.add_workspace(TEAM, BOT_TOKEN, team_name="Acme", bot_user_id="UBOT")
        server.add_channel(TEAM, CHANNEL, name="general")
        server.add_channel(TEAM, "C_OUT", member=False, name="random")
        server.add_channel(TEAM, "G_SECRET", member=False, is_private=True)
        server.add_user(TEAM, USER, tz="Europe/Berlin", name="ada")
        yield server


@pytest.fixture
def stocked(sqlite_engine: Engine) -> Engine:
    store_fixture_snapshots(sqlite_engine)
    return sqlite_engine


@pytest.fixture
def harness(fake: FakeSlack, stocked: Engine) -> Iterator[SlackHarness]:
    with SlackHarness(fake, stocked, commands=WITH_PROBE) as running:
        fake.clear_calls()  # forget auth.test at start-up
        yield running


def settled(fake: FakeSlack, predicate: Any) -> list[Call]:
    """The calls once ``predicate`` holds (a generous limit: CI machines are slow, not us)."""
    return fake.wait_for(predicate, timeout=WAIT)


def posts(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method in POSTS and c.ok]


def answered(count: int = 1) -> Any:
    return lambda calls: len(posts(calls)) >= count


def everything_sent(fake: FakeSlack) -> str:
    """Every byte that reached the fake, as text (for "never appears" assertions)."""
    return json.dumps([c.params for c in fake.calls], ensure_ascii=False)


def acked(reply: Any) -> None:
    assert reply.status == 200, reply.body
    assert reply.seconds < ACK_LIMIT_SECONDS


def share_value(call: Call) -> str:
    (button,) = [
        element
        for block in call.params.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("action_id") == "hubpulse_share"
    ]
    return str(button["value"])


# ---------------------------------------------------------------- answers


def test_an_answer_arrives_ephemeral_with_a_share_button(harness: SlackHarness, fake: FakeSlack):
    reply = harness.post_command("/probe", "qwen")
    acked(reply)
    assert reply.body == b""  # the answer follows through response_url
    (answer,) = posts(settled(fake, answered()))
    assert answer.method == "response_url"
    assert answer.params["response_type"] == "ephemeral"
    assert "probe for T1" in answer.params["text"]
    assert json.loads(share_value(answer)) == {"command": "/probe", "text": "qwen"}
    assert [c.token for c in fake.calls if c.method == "users.info"] == [BOT_TOKEN]


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_each_command_answers(module: str, harness: SlackHarness, fake: FakeSlack):
    command = importlib.import_module(f"commands.{module}").COMMAND
    example = command.examples[0] if command.examples else command.name
    name, _, text = example.partition(" ")
    acked(harness.post_command(name, text))
    answer = posts(settled(fake, answered()))[0]
    assert answer.params.get("text")
    assert answer.params["text"] != APOLOGY, fake.summary()


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_help_shows_usage(module: str, harness: SlackHarness, fake: FakeSlack):
    command = importlib.import_module(f"commands.{module}").COMMAND
    acked(harness.post_command(command.name, "help"))
    answer = posts(settled(fake, answered()))[0]
    assert answer.params["response_type"] == "ephemeral"
    assert command.name in json.dumps(answer.params)


# ---------------------------------------------------------------- requests Slack did not sign


def test_a_bad_signature_is_rejected(harness: SlackHarness, fake: FakeSlack):
    reply = harness.post_command("/probe", "forged", signing_secret="not-the-secret")
    assert reply.status == 401
    acked(harness.post_command("/probe", "genuine"))
    (answer,) = posts(settled(fake, answered()))
    assert "genuine" in answer.params["text"]
    assert "forged" not in everything_sent(fake)


def test_a_stale_timestamp_is_rejected(harness: SlackHarness, fake: FakeSlack):
    six_minutes_ago = str(int(time.time()) - 6 * 60)
    reply = harness.post_command("/probe", "replayed", timestamp=six_minutes_ago)
    assert reply.status == 401
    acked(harness.post_command("/probe", "fresh"))
    (answer,) = posts(settled(fake, answered()))
    assert "fresh" in answer.params["text"]
    assert "replayed" not in everything_sent(fake)


# ---------------------------------------------------------------- hostile text


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/probe", "<!channel> and <!here> & <@U123>"),
        ("/share", "<!channel>"),
        ("/lineage", "<@U123>"),
        ("/subscribe", "<!everyone>"),
    ],
)
def test_mentions_are_escaped_and_ping_nobody(
    command: str, text: str, harness: SlackHarness, fake: FakeSlack
):
    acked(harness.post_command(command, text))
    answer = posts(settled(fake, answered()))[0]
    sent = everything_sent(fake)
    for mention in re.findall(r"<[!@][^>]*>", text):
        assert mention not in sent, answer.params
    if command == "/probe":
        assert "&lt;!channel&gt;" in answer.params["text"]


def test_an_argument_of_ten_thousand_characters(harness: SlackHarness, fake: FakeSlack):
    reply = harness.post_command("/probe", "q" * 10_000)
    acked(reply)
    assert "at most 1,000" in reply.json()["text"]
    assert reply.json()["response_type"] == "ephemeral"
    assert len(reply.body) < 500
    harness.post_command("/probe", "after")  # the next command is answered, the long one never
    (answer,) = posts(settled(fake, answered()))
    assert "after" in answer.params["text"]


# ---------------------------------------------------------------- errors


def test_a_user_error_is_a_short_ephemeral_message(
    harness: SlackHarness, fake: FakeSlack, caplog: pytest.LogCaptureFixture
):
    acked(harness.post_command("/probe", "bad"))
    (answer,) = posts(settled(fake, answered()))
    assert answer.params == {
        "text": "no org called `bad`; did you mean `bert`?",
        "response_type": "ephemeral",
        "replace_original": False,
    }
    assert not [r for r in caplog.records if r.exc_info]


def test_an_unexpected_exception_is_logged_and_apologised_for(
    harness: SlackHarness, fake: FakeSlack, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    acked(harness.post_command("/probe", "boom"))
    (answer,) = posts(settled(fake, answered()))
    assert answer.params["text"] == APOLOGY
    assert "\n" not in APOLOGY
    assert "exploded" not in everything_sent(fake)
    traced = [r for r in caplog.records if r.exc_info and "/probe failed" in r.getMessage()]
    assert traced, caplog.text
    assert "RuntimeError: the probe exploded" in caplog.text
    for secret in (BOT_TOKEN, SIGNING_SECRET):
        assert secret not in caplog.text


# ---------------------------------------------------------------- in channel


def test_public_posts_in_channel(harness: SlackHarness, fake: FakeSlack):
    acked(harness.post_command("/probe", "qwen public"))
    (post,) = posts(settled(fake, answered()))
    assert post.method == "chat.postMessage"
    assert post.params["channel"] == CHANNEL
    assert post.token == BOT_TOKEN
    assert "probe for T1" in fake.messages[CHANNEL][0]["text"]


def test_a_429_is_waited_out_then_posted_once(harness: SlackHarness, fake: FakeSlack):
    fake.rate_limit("chat.postMessage", retry_after=0)
    acked(harness.post_command("/probe", "qwen public"))
    settled(fake, answered())
    tries = fake.calls_to("chat.postMessage")
    assert [(c.status, c.error) for c in tries] == [(429, "ratelimited"), (200, None)]
    assert len(fake.messages[CHANNEL]) == 1


@pytest.mark.parametrize("channel", ["C_OUT", "G_SECRET", "DU2"])
def test_where_the_bot_cannot_post_the_answer_comes_through_response_url(
    channel: str, harness: SlackHarness, fake: FakeSlack, caplog: pytest.LogCaptureFixture
):
    acked(harness.post_command("/probe", "qwen chart public", channel_id=channel))
    sent = settled(fake, answered(2))
    answer, hint = posts(sent)
    refused = fake.calls_to("chat.postMessage")[0]
    assert refused.error in ("not_in_channel", "channel_not_found")
    assert f"Slack chat.postMessage failed: {refused.error}" in caplog.text
    assert answer.method == hint.method == "response_url"
    assert answer.params["response_type"] == "in_channel"
    assert "probe for T1" in answer.params["text"]
    assert hint.params["response_type"] == "ephemeral"
    assert "/invite @hubpulse" in hint.params["text"]
    assert not fake.calls_to("files.completeUploadExternal")


# ---------------------------------------------------------------- charts


def test_an_ephemeral_chart_is_a_private_file_in_an_image_block(
    harness: SlackHarness, fake: FakeSlack
):
    acked(harness.post_command("/probe", "chart"))
    (answer,) = posts(settled(fake, answered()))
    (completed,) = fake.calls_to("files.completeUploadExternal")
    assert "channel_id" not in completed.params
    assert "channels" not in completed.params
    file_id = completed.params["files"][0]["id"]
    assert fake.files[file_id] == PNG
    images = [b for b in answer.params["blocks"] if b["type"] == "image"]
    assert images == [
        {
            "type": "image",
            "slack_file": {"id": file_id},
            "alt_text": "A bar chart of nothing",
            "title": {"type": "plain_text", "text": "Probe chart"},
        }
    ]
    assert answer.params["response_type"] == "ephemeral"
    assert answer.params["blocks"][-1]["type"] == "actions"  # the Share button stays last
    assert not fake.messages  # nothing public


def test_a_refused_image_block_falls_back_to_text(harness: SlackHarness, fake: FakeSlack):
    fake.fail_http("response_url", 400)
    acked(harness.post_command("/probe", "chart"))
    (answer,) = posts(settled(fake, answered()))
    refused = [c for c in fake.calls_to("response_url") if not c.ok]
    assert [b["type"] for b in refused[0].params["blocks"]].count("image") == 1
    assert "image" not in [b["type"] for b in answer.params["blocks"]]
    assert "probe for T1" in answer.params["text"]


def test_a_public_chart_is_uploaded_to_the_channel(harness: SlackHarness, fake: FakeSlack):
    acked(harness.post_command("/probe", "chart public"))
    settled(fake, lambda calls: any(c.method == "files.completeUploadExternal" for c in calls))
    (completed,) = fake.calls_to("files.completeUploadExternal")
    assert completed.params["channel_id"] == CHANNEL
    kinds = [m.get("subtype", "message") for m in fake.messages[CHANNEL]]
    assert kinds == ["message", "file_share"]


# ---------------------------------------------------------------- the Share button


def test_the_share_button_reposts_the_answer_in_channel(harness: SlackHarness, fake: FakeSlack):
    acked(harness.post_command("/probe", "qwen <!here>"))
    (private,) = posts(settled(fake, answered()))
    fake.clear_calls()
    action_url = fake.response_url("share")
    reply = harness.post_action(share_action_payload(share_value(private), response_url=action_url))
    acked(reply)
    sent = settled(fake, lambda calls: any(c.method == "response_url" for c in calls))
    (post,) = [c for c in sent if c.method == "chat.postMessage"]
    assert post.params["channel"] == CHANNEL
    assert post.params["text"] == private.params["text"]
    assert "<!here>" not in everything_sent(fake)
    (removed,) = [c for c in sent if c.method == "response_url"]
    assert removed.path == urlsplit(action_url).path
    assert removed.params["delete_original"] is True


def test_the_share_button_is_left_out_when_the_text_cannot_fit_in_it(
    harness: SlackHarness, fake: FakeSlack
):
    text = "<" * 600  # 600 characters, 2,400 once escaped: more than a button value holds
    acked(harness.post_command("/probe", text))
    (answer,) = posts(settled(fake, answered()))
    assert "probe for T1" in answer.params["text"]
    assert [b["type"] for b in answer.params["blocks"]] == ["section"]


def test_a_forged_share_value_runs_nothing(harness: SlackHarness, fake: FakeSlack):
    payload = share_action_payload(
        json.dumps({"command": "/nope", "text": "x"}), response_url=fake.response_url()
    )
    acked(harness.post_action(payload))
    (note,) = posts(settled(fake, answered()))
    assert "no longer works" in note.params["text"]
    assert not fake.calls_to("chat.postMessage")


# ---------------------------------------------------------------- App Home


def test_app_home_shows_the_cache_and_the_commands(harness: SlackHarness, fake: FakeSlack):
    reply = harness.post_event({"type": "app_home_opened", "user": USER, "tab": "home"})
    acked(reply)
    settled(fake, lambda calls: any(c.method == "views.publish" for c in calls))
    (published,) = fake.calls_to("views.publish")
    assert published.ok, fake.summary()
    view = json.dumps(fake.home_views[USER]["blocks"])
    assert "snapshot of 2 Mar 2026 08:00 UTC" in view
    assert "/probe" in view
    assert "Subscriptions in this workspace" in view


# ---------------------------------------------------------------- many workspaces (OAuth)


@pytest.fixture
def oauth_harness(fake: FakeSlack, engine: Engine) -> Iterator[SlackHarness]:
    """OAuth mode, with installations and states on SQLite and on the real PostgreSQL."""
    store_fixture_snapshots(engine)
    fake.client_id, fake.client_secret = CLIENT_ID, CLIENT_SECRET
    with SlackHarness(fake, engine, oauth=True, commands=WITH_PROBE) as running:
        yield running


def install(harness: SlackHarness, fake: FakeSlack, team_id: str, token: str) -> None:
    page = harness.get("/slack/install")
    assert page.status == 200
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page.body.decode())
    assert link, page.body
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [CLIENT_ID]
    assert set(query["scope"][0].split(",")) == {
        "commands",
        "chat:write",
        "files:write",
        "users:read",
    }
    state = query["state"][0]
    cookie = page.headers["set-cookie"].split(";")[0]
    assert cookie == f"slack-app-oauth-state={state}"
    code = f"code-{team_id}"
    fake.set_oauth_result(code, team_id=team_id, bot_token=token, bot_user_id=f"UB{team_id}")
    done = harness.get(f"/slack/oauth_redirect?code={code}&state={state}", {"Cookie": cookie})
    assert done.status == 200, done.body


def test_oauth_install_then_each_workspace_uses_its_own_token(
    oauth_harness: SlackHarness, fake: FakeSlack, engine: Engine
):
    install(oauth_harness, fake, "TA", "xoxb-team-a-1111")
    install(oauth_harness, fake, "TB", "xoxb-team-b-2222")
    exchanges = fake.calls_to("oauth.v2.access")
    assert [c.params["code"] for c in exchanges] == ["code-TA", "code-TB"]
    with engine.connect() as connection:
        rows = connection.execute(
            select(installations.c.team_id, installations.c.bot_token).order_by(
                installations.c.team_id
            )
        ).all()
    assert [tuple(r) for r in rows] == [("TA", "xoxb-team-a-1111"), ("TB", "xoxb-team-b-2222")]
    fake.add_channel("TA", "CA")
    fake.add_channel("TB", "CB")

    fake.clear_calls()
    acked(oauth_harness.post_command("/probe", "mine public", team_id="TA", channel_id="CA"))
    (post_a,) = posts(settled(fake, answered()))
    assert "probe for TA" in post_a.params["text"]
    assert {c.token for c in fake.calls if c.token} == {"xoxb-team-a-1111"}

    fake.clear_calls()
    acked(oauth_harness.post_command("/probe", "mine public", team_id="TB", channel_id="CB"))
    (post_b,) = posts(settled(fake, answered()))
    assert "probe for TB" in post_b.params["text"]
    assert {c.token for c in fake.calls if c.token} == {"xoxb-team-b-2222"}
    assert "TA" not in everything_sent(fake)
    assert "CA" not in fake.messages.get("CB", [{}])[0].get("text", "")


def test_a_workspace_without_an_installation_gets_nothing(
    oauth_harness: SlackHarness, fake: FakeSlack
):
    install(oauth_harness, fake, "TA", "xoxb-team-a-1111")
    fake.clear_calls()
    reply = oauth_harness.post_command("/probe", "hello", team_id="TZ")
    assert reply.seconds < ACK_LIMIT_SECONDS
    (notice,) = posts(settled(fake, answered()))
    assert notice.params["text"] == NOT_INSTALLED
    assert not [c for c in fake.calls if c.token]
    assert "probe for" not in everything_sent(fake)


def test_a_bad_oauth_state_installs_nothing(
    oauth_harness: SlackHarness, fake: FakeSlack, engine: Engine
):
    fake.set_oauth_result("code-x", team_id="TX", bot_token="xoxb-team-x")
    reply = oauth_harness.get(
        "/slack/oauth_redirect?code=code-x&state=forged",
        {"Cookie": "slack-app-oauth-state=forged"},
    )
    assert reply.status == 401
    assert not fake.calls_to("oauth.v2.access")
    with engine.connect() as connection:
        assert connection.execute(select(installations)).all() == []


def test_one_workspace_never_sees_anothers_subscriptions(
    oauth_harness: SlackHarness, fake: FakeSlack
):
    install(oauth_harness, fake, "TA", "xoxb-team-a-1111")
    install(oauth_harness, fake, "TB", "xoxb-team-b-2222")
    for team in ("TA", "TB"):  # the same channel id in both: only the team tells them apart
        fake.add_channel(team, "CSAME")
        fake.add_user(team, "U1")

    acked(oauth_harness.post_command("/subscribe", "deepseek-ai", team_id="TB", channel_id="CSAME"))
    (subscribed,) = posts(settled(fake, answered()))
    assert subscribed.token == "xoxb-team-b-2222"

    fake.clear_calls()
    acked(oauth_harness.post_command("/subscriptions", "", team_id="TA", channel_id="CSAME"))
    (listing,) = posts(settled(fake, answered()))
    assert "no subscriptions" in listing.params["text"]
    assert "follows" not in listing.params["text"]

    homes = {}
    for team in ("TA", "TB"):
        fake.clear_calls()
        oauth_harness.post_event({"type": "app_home_opened", "user": "U1"}, team_id=team)
        settled(fake, lambda calls: any(c.method == "views.publish" for c in calls))
        (published,) = fake.calls_to("views.publish")
        homes[team] = json.dumps(published.params["view"]["blocks"])
    assert "follows *deepseek-ai*" in homes["TB"]
    assert "deepseek-ai*" not in homes["TA"]
    assert "None yet" in homes["TA"]
