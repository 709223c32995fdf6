"""Prove tests/fakes/slack.py against the real slack_sdk clients."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.fakes.slack import Call, FakeSlack

TOKEN = "xoxb-acme"
OTHER_TOKEN = "xoxb-globex"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A running fake with two workspaces, a few channels and users."""
    with FakeSlack() as server:
        server.add_workspace("T1", TOKEN, team_name="Acme", bot_user_id="UBOT1")
        server.add_workspace("T2", OTHER_TOKEN, team_name="Globex")
        server.add_channel("T1", "C1", name="general")
        server.add_channel("T1", "C_OUT", member=False)
        server.add_channel("T1", "C_OLD", archived=True)
        server.add_channel("T1", "G_SECRET", member=False, is_private=True)
        server.add_channel("T2", "C2")
        server.add_user("T1", "U1", tz="Europe/Berlin", name="ada")
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    """The real slack_sdk client pointed at the fake."""
    return WebClient(token=TOKEN, base_url=fake.api_url, timeout=5)


def api_error(exc: pytest.ExceptionInfo[SlackApiError]) -> str:
    """The Slack error code carried by a SlackApiError."""
    return str(exc.value.response["error"])


def test_urls(fake: FakeSlack) -> None:
    assert fake.url.startswith("http://127.0.0.1:")
    assert fake.api_url == fake.url + "/api/"


def test_post_message_with_blocks_is_recorded(fake: FakeSlack, client: WebClient) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Trending models"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*llama* is up 12%"}},
    ]
    resp = client.chat_postMessage(channel="C1", text="Trending", blocks=blocks, unfurl_links=False)

    assert resp["ok"] is True
    assert resp["channel"] == "C1"
    assert resp["message"]["text"] == "Trending"
    assert resp["message"]["blocks"] == blocks
    assert resp["message"]["user"] == "UBOT1"
    [call] = fake.calls_to("chat.postMessage")
    assert call.token == TOKEN
    assert call.team_id == "T1"
    assert call.params["blocks"] == blocks
    assert call.params["unfurl_links"] is False
    assert call.response is not None
    assert call.response["ts"] == resp["ts"]
    assert fake.messages["C1"][0]["ts"] == resp["ts"]
    assert fake.posted_texts() == ["Trending"]


def test_ts_values_are_unique_and_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(3)]
    assert stamps == sorted(stamps, key=float)
    assert len(set(stamps)) == 3
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)


def test_posting_by_channel_name_and_to_a_user(client: WebClient) -> None:
    assert client.chat_postMessage(channel="#general", text="x")["channel"] == "C1"
    assert client.chat_postMessage(channel="U1", text="dm")["channel"].startswith("D")


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"channel": "C_OUT", "text": "x"}, "not_in_channel"),
        ({"channel": "C404", "text": "x"}, "channel_not_found"),
        ({"channel": "C2", "text": "x"}, "channel_not_found"),  # another team's channel
        ({"channel": "G_SECRET", "text": "x"}, "channel_not_found"),
        ({"channel": "C_OLD", "text": "x"}, "is_archived"),
        ({"channel": "C1"}, "no_text"),
        ({"channel": "C1", "blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
        (
            {
                "channel": "C1",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3001}}],
            },
            "invalid_blocks",
        ),
        (
            {
                "channel": "C1",
                "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            },
            "invalid_blocks",
        ),
    ],
)
def test_post_message_errors(
    fake: FakeSlack, client: WebClient, kwargs: dict[str, Any], error: str
) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(**kwargs)
    assert api_error(exc) == error
    assert exc.value.response.status_code == 200
    [call] = fake.calls_to("chat.postMessage")
    assert call.error == error
    assert fake.posted_texts() == []


def test_invalid_blocks_carry_slack_style_details(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C1", text="x", blocks=[{"type": "divider"}] * 51)
    assert exc.value.response["errors"] == ["no more than 50 items allowed [json-pointer:/blocks]"]


def test_limits_at_the_boundary_are_accepted(client: WebClient) -> None:
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "h" * 150}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3000}}] * 49
    assert client.chat_postMessage(channel="C1", text="x", blocks=blocks)["ok"]


@pytest.mark.parametrize(
    ("token", "error"),
    [("xoxb-nope", "invalid_auth"), (None, "not_authed")],
)
def test_auth_errors(fake: FakeSlack, token: str | None, error: str) -> None:
    with pytest.raises(SlackApiError) as exc:
        WebClient(token=token, base_url=fake.api_url).chat_postMessage(channel="C1", text="x")
    assert api_error(exc) == error


def test_revoked_token(fake: FakeSlack, client: WebClient) -> None:
    fake.revoke(TOKEN)
    with pytest.raises(SlackApiError) as exc:
        client.auth_test()
    assert api_error(exc) == "token_revoked"


def test_auth_test(client: WebClient) -> None:
    resp = client.auth_test()
    assert resp["team_id"] == "T1"
    assert resp["team"] == "Acme"
    assert resp["user_id"] == "UBOT1"
    assert resp["bot_id"]
    assert resp["enterprise_id"] is None
    assert resp["is_enterprise_install"] is False
    assert resp["url"] == "https://acme.slack.com/"


def test_rate_limit_is_retried_by_the_sdk_handler(fake: FakeSlack, client: WebClient) -> None:
    fake.rate_limit("chat.postMessage", retry_after=1)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    started = time.monotonic()

    resp = client.chat_postMessage(channel="C1", text="after the limit")

    assert resp["ok"]
    assert time.monotonic() - started >= 1
    first, second = fake.calls_to("chat.postMessage")
    assert (first.status, first.error) == (429, "ratelimited")
    assert second.ok
    assert fake.posted_texts() == ["after the limit"]


def test_rate_limit_without_handler_raises_429(fake: FakeSlack, client: WebClient) -> None:
    fake.rate_limit("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C1", text="x")
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "7"
    assert api_error(exc) == "ratelimited"


def test_rate_limit_every_third_call_until_stopped(fake: FakeSlack, client: WebClient) -> None:
    fake.rate_limit_every("chat.postMessage", 3, retry_after=2)
    for n in range(6):
        if n % 3 == 2:
            with pytest.raises(SlackApiError) as exc:
                client.chat_postMessage(channel="C1", text=f"m{n}")
            assert exc.value.response.status_code == 429
            assert exc.value.response.headers["Retry-After"] == "2"
        else:
            client.chat_postMessage(channel="C1", text=f"m{n}")
    fake.rate_limit_every("chat.postMessage", 0)
    for n in range(3):
        client.chat_postMessage(channel="C1", text=f"after {n}")
    url = fake.response_url()
    fake.rate_limit_every("response_url", 1, retry_after=1)
    reply = WebhookClient(url).send(text="limited")
    assert (reply.status_code, reply.body) == (429, "rate_limited")
    assert reply.headers["Retry-After"] == "1"


def test_fail_answers_http_200_errors_then_recovers(fake: FakeSlack, client: WebClient) -> None:
    fake.fail("users.info", "fatal_error", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as exc:
            client.users_info(user="U1")
        assert api_error(exc) == "fatal_error"
        assert exc.value.response.status_code == 200
    assert client.users_info(user="U1")["ok"]


def test_fail_http_is_an_outage(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_http("chat.postMessage", 503)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C1", text="x")
    assert exc.value.response.status_code == 503
    assert "non-JSON" in api_error(exc)


def test_files_upload_v2_to_a_channel(fake: FakeSlack, client: WebClient) -> None:
    content = b"\x89PNG\r\n\x1a\n\x00binary\r\n--x"
    resp = client.files_upload_v2(
        channel="C1", content=content, filename="chart.png", initial_comment="Weekly chart"
    )

    methods = [c.method for c in fake.calls]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    get_url, upload, complete = fake.calls
    assert get_url.params["filename"] == "chart.png"
    assert get_url.params["length"] == str(len(content))
    file_id = resp["file"]["id"]
    assert upload.files == {file_id: content}
    assert fake.files[file_id] == content
    assert complete.params["files"] == [{"id": file_id, "title": "chart.png"}]
    assert complete.params["channel_id"] == "C1"
    assert resp["file"]["name"] == "chart.png"
    assert resp["file"]["mimetype"] == "image/png"
    assert resp["file"]["size"] == len(content)
    assert resp["file"]["channels"] == ["C1"]
    assert resp["file"]["permalink"]
    assert fake.messages["C1"][-1]["text"] == "Weekly chart"
    info = client.files_info(file=file_id)
    assert info["file"]["id"] == file_id


def test_files_upload_v2_private(fake: FakeSlack, client: WebClient) -> None:
    resp = client.files_upload_v2(content="a,b\n1,2\n", filename="data.csv", title="Data")
    file_id = resp["file"]["id"]
    assert fake.files[file_id] == b"a,b\n1,2\n"
    assert resp["file"]["title"] == "Data"
    assert resp["file"]["channels"] == []
    assert "channel_id" not in fake.calls_to("files.completeUploadExternal")[0].params


def test_files_upload_v2_to_a_channel_without_the_bot(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.files_upload_v2(channel="C_OUT", content=b"x", filename="x.png")
    assert api_error(exc) == "not_in_channel"


def test_complete_upload_of_unknown_file(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.files_completeUploadExternal(files=[{"id": "F404"}])
    assert api_error(exc) == "file_not_found"


def test_users_info(client: WebClient) -> None:
    user = client.users_info(user="U1")["user"]
    assert user["id"] == "U1"
    assert user["team_id"] == "T1"
    assert user["name"] == "ada"
    assert user["tz"] == "Europe/Berlin"
    assert user["tz_offset"] in (3600, 7200)
    assert user["tz_label"].startswith("Central European")
    with pytest.raises(SlackApiError) as exc:
        client.users_info(user="U404")
    assert api_error(exc) == "user_not_found"


def test_conversations_info_and_join(fake: FakeSlack, client: WebClient) -> None:
    channel = client.conversations_info(channel="C_OUT")["channel"]
    assert channel["is_member"] is False
    assert channel["is_private"] is False
    assert client.conversations_join(channel="C_OUT")["channel"]["is_member"] is True
    assert client.chat_postMessage(channel="C_OUT", text="joined")["ok"]
    with pytest.raises(SlackApiError) as exc:
        client.conversations_info(channel="C404")
    assert api_error(exc) == "channel_not_found"
    with pytest.raises(SlackApiError) as exc:
        client.conversations_join(channel="C_OLD")
    assert api_error(exc) == "is_archived"


def test_post_ephemeral(fake: FakeSlack, client: WebClient) -> None:
    resp = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert resp["message_ts"]
    with pytest.raises(SlackApiError) as exc:
        client.chat_postEphemeral(channel="C1", user="U404", text="x")
    assert api_error(exc) == "user_not_in_channel"
    assert fake.posted_texts() == ["only you"]


def test_views_publish(fake: FakeSlack, client: WebClient) -> None:
    view = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Home"}}],
    }
    resp = client.views_publish(user_id="U1", view=view)
    assert resp["view"]["id"]
    assert resp["view"]["blocks"] == view["blocks"]
    assert fake.calls_to("views.publish")[0].params["view"] == view
    assert fake.home_views["U1"]["id"] == resp["view"]["id"]


def test_response_url_via_webhook_client(fake: FakeSlack) -> None:
    url = fake.response_url("cmd")
    resp = WebhookClient(url).send(text="working on it", response_type="ephemeral")

    assert (resp.status_code, resp.body) == (200, "ok")
    [call] = fake.calls_to("response_url")
    assert call.params == {"text": "working on it", "response_type": "ephemeral"}
    assert call.path == url.removeprefix(fake.url)
    assert fake.posted_texts() == ["working on it"]


def test_expired_response_url(fake: FakeSlack) -> None:
    url = fake.response_url()
    fake.fail_http("response_url", 404)
    resp = WebhookClient(url).send(text="too late")
    assert (resp.status_code, resp.body) == (404, "expired_url")
    assert WebhookClient(url).send(text="again").status_code == 200
    bogus = WebhookClient(fake.url + "/response/nope").send(text="x")
    assert (bogus.status_code, bogus.body) == (404, "expired_url")
    assert fake.posted_texts() == ["again"]


def test_oauth_v2_access(fake: FakeSlack) -> None:
    fake.set_oauth_result("code-1", team_id="T9", bot_token="xoxb-new", bot_user_id="UB9")
    oauth = WebClient(base_url=fake.api_url)

    resp = oauth.oauth_v2_access(client_id="111.222", client_secret="shh", code="code-1")

    assert resp["access_token"] == "xoxb-new"
    assert resp["token_type"] == "bot"
    assert resp["bot_user_id"] == "UB9"
    assert resp["team"] == {"id": "T9", "name": "T9"}
    assert resp["enterprise"] is None
    assert resp["authed_user"]["id"]
    assert resp["scope"] == "commands,chat:write"
    call = fake.calls_to("oauth.v2.access")[0]
    assert call.params["code"] == "code-1"
    assert "client_secret" not in call.params
    # the installed token now works, and codes are single-use
    assert WebClient(token="xoxb-new", base_url=fake.api_url).auth_test()["team_id"] == "T9"
    with pytest.raises(SlackApiError) as exc:
        oauth.oauth_v2_access(client_id="111.222", client_secret="shh", code="code-1")
    assert api_error(exc) == "invalid_code"


def test_oauth_checks_client_credentials(fake: FakeSlack) -> None:
    fake.client_id, fake.client_secret = "111.222", "right"
    fake.set_oauth_result("c", team_id="T9", bot_token="xoxb-new")
    with pytest.raises(SlackApiError) as exc:
        WebClient(base_url=fake.api_url).oauth_v2_access(
            client_id="111.222", client_secret="wrong", code="c"
        )
    assert api_error(exc) == "bad_client_secret"


def test_unknown_method_and_minimal_methods(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.api_call("hubpulse.nonsense")
    assert api_error(exc) == "unknown_method"
    assert client.team_info()["team"]["id"] == "T1"
    assert client.apps_uninstall(client_id="a", client_secret="b")["ok"]
    with pytest.raises(SlackApiError) as exc:
        client.auth_test()
    assert api_error(exc) == "token_revoked"


def test_get_with_query_token_and_headers(fake: FakeSlack) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", int(fake.url.rsplit(":", 1)[1]), timeout=5)
    try:
        conn.request("GET", f"/api/users.info?token={OTHER_TOKEN}&user=UBOT")
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "application/json; charset=utf-8"
    assert resp.getheader("Content-Length") == str(len(body))
    assert json.loads(body)["user"]["team_id"] == "T2"
    [call] = fake.calls
    assert (call.token, call.team_id) == (OTHER_TOKEN, "T2")


def test_wait_for_sees_calls_from_another_thread(fake: FakeSlack, client: WebClient) -> None:
    def post_later() -> None:
        time.sleep(0.1)
        client.chat_postMessage(channel="C1", text="from a thread")

    worker = threading.Thread(target=post_later)
    worker.start()
    try:
        calls = fake.wait_for(lambda cs: any(c.method == "chat.postMessage" for c in cs), 5)
    finally:
        worker.join()
    assert calls[-1].params["text"] == "from a thread"


def test_wait_for_times_out_with_a_summary(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()

    def never(calls: list[Call]) -> bool:
        return False

    with pytest.raises(AssertionError, match=r"auth\.test"):
        fake.wait_for(never, timeout=0.05)
