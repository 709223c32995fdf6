"""``hubpulse serve``: its checks at start, and one real process answering over HTTP."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import Engine

from bot.cli import main
from tests.fakes.slack import FakeSlack
from tests.slack_harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    ServeProcess,
    http,
    store_fixture_snapshots,
)


def test_without_slack_settings_it_says_what_is_missing(sqlite_url: str):
    result = CliRunner().invoke(main, ["serve"], env={"HUBPULSE_DATABASE_URL": sqlite_url})
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SLACK_BOT_TOKEN" in lines[0]
    assert "Traceback" not in result.output


def test_a_token_slack_refuses_is_one_line_without_the_token(fake: FakeSlack, sqlite_url: str):
    env = {
        "HUBPULSE_DATABASE_URL": sqlite_url,
        "SLACK_BOT_TOKEN": "xoxb-1-revoked-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.api_url,
    }
    result = CliRunner().invoke(main, ["serve", "--no-scheduler"], env=env)
    assert result.exit_code == 2
    problems = [line for line in result.stderr.splitlines() if line.startswith("hubpulse:")]
    assert len(problems) == 1
    assert "SLACK_BOT_TOKEN" in problems[0]
    assert "Traceback" not in result.stderr
    assert "revoked-token" not in result.output
    assert fake.calls_to("auth.test")[0].error == "invalid_auth"


def test_serve_answers_over_http_with_health_and_metrics(
    fake: FakeSlack, sqlite_engine: Engine, sqlite_url: str
):
    store_fixture_snapshots(sqlite_engine)
    with ServeProcess(fake, sqlite_url) as server:
        health = http(server.url + "/healthz")
        assert health.json()["snapshot_id"] is not None
        reply = server.post_command("/share", "china", fake.response_url())
        assert reply.status == 200
        sent = fake.wait_for(lambda calls: any(c.method == "response_url" for c in calls), 30)
        (answer,) = [c for c in sent if c.method == "response_url"]
        assert answer.params["response_type"] == "ephemeral"
        assert "China" in answer.params["text"]
        scraped = http(server.url + "/metrics").body.decode()
        assert 'hubpulse_commands_total{command="/share",outcome="ok"} 1.0' in scraped
        assert server.stop() == 0
    assert BOT_TOKEN not in "".join(server.log)
