"""Structured logs: JSON or text, command events with their fields, and never a secret."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator

import pytest
from huggingface_hub.utils import logging as hf_logging
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient

from bot.core.logs import (
    BOLT_APP_LOGGER,
    REDACTED,
    SLACK_LIBRARY_LOGGERS,
    configure_logging,
    is_slack_library,
    log_command,
    redact,
)
from bot.slack.app import BOLT_LOGGER
from tests.fakes.slack import FakeSlack

BOT_TOKEN = "xoxb-2222-3333-SeCrEtBoTtOkEn"
USER_TOKEN = "xoxp-4444-5555-UsErToKeN"
APP_TOKEN = "xapp-1-A0001-6666-AbCdEf"
HF_TOKEN = "hf_QwErTyUiOpAsDfGhJkLzXcVbNm1234"
SIGNING_SECRET = "5ca1ab1e0ddba11deadbeef00c0ffee0"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Where the configured handler writes; the root, huggingface_hub and Slack loggers are
    restored afterwards."""
    loggers = (
        logging.getLogger(),
        hf_logging.get_logger(),
        *(logging.getLogger(name) for name in SLACK_LIBRARY_LOGGERS),
    )
    saved = [(logger, logger.handlers[:], logger.level, logger.propagate) for logger in loggers]
    yield io.StringIO()
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_json_logs_are_one_object_a_line_with_the_command_event(stream):
    configure_logging("json", "INFO", stream=stream)
    log_command("/share", team_id="T123", latency_ms=41.66, outcome="ok", channel_id="C9")
    log_command("/lineage", team_id="T123", latency_ms=3.2, outcome="error")
    first, second = (json.loads(line) for line in lines(stream))
    assert first["message"] == "/share ok in 42 ms"
    assert first["level"] == "INFO"
    assert first["logger"] == "hubpulse.commands"
    assert (first["command"], first["team_id"], first["outcome"]) == ("/share", "T123", "ok")
    assert first["latency_ms"] == 41.7
    assert first["channel_id"] == "C9"
    assert first["time"].endswith("+00:00")
    assert (second["level"], second["outcome"]) == ("ERROR", "error")


def test_json_logs_carry_the_traceback_in_the_same_line(stream):
    configure_logging("json", stream=stream)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("hubpulse.test").exception("command failed")
    [line] = lines(stream)
    body = json.loads(line)
    assert body["message"] == "command failed"
    assert "RuntimeError: boom" in body["traceback"]


def test_text_logs_are_readable_with_the_fields_after_the_message(stream):
    configure_logging("text", "INFO", stream=stream)
    log_command("/releases", team_id="T7", latency_ms=120.0, outcome="user_error")
    [line] = lines(stream)
    assert " INFO hubpulse.commands: /releases user_error in 120 ms " in line
    assert line.endswith("command=/releases team_id=T7 latency_ms=120.0 outcome=user_error")


def test_the_level_filters(stream):
    configure_logging("text", "WARNING", stream=stream)
    logging.getLogger("hubpulse").info("quiet")
    logging.getLogger("hubpulse").warning("loud")
    assert [line.split(": ", 1)[1] for line in lines(stream)] == ["loud"]


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_tokens_are_redacted_from_every_part_of_every_record(stream, log_format):
    configure_logging(log_format, "DEBUG", secrets=[SIGNING_SECRET], stream=stream)
    third_party = logging.getLogger("slack_bolt.App")
    third_party.info("token %s and %s", BOT_TOKEN, USER_TOKEN)
    third_party.debug("app token in the message: " + APP_TOKEN)
    logging.getLogger("hubpulse").warning("hub", extra={"hf": HF_TOKEN, "secret": SIGNING_SECRET})
    try:
        raise ValueError(f"bad signature with {SIGNING_SECRET}")
    except ValueError:
        logging.getLogger("hubpulse").exception("failed for %s", BOT_TOKEN)
    logging.getLogger("sqlalchemy").error("postgresql://hubpulse:pgpass123@db/hubpulse down")
    output = stream.getvalue()
    for secret in (BOT_TOKEN, USER_TOKEN, APP_TOKEN, HF_TOKEN, SIGNING_SECRET, "pgpass123"):
        assert secret not in output
    assert output.count(REDACTED) >= 8
    assert "bad signature with [redacted]" in output


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_huggingface_hub_records_are_printed_once_and_redacted(stream, log_format):
    """huggingface_hub prints through a stderr handler it adds when imported; after configuring,
    its records reach only the redacting handler."""
    bypass = io.StringIO()
    library = hf_logging.get_logger()
    for own in library.handlers:
        if isinstance(own, logging.StreamHandler):
            own.setStream(bypass)
    library.addHandler(logging.StreamHandler(bypass))  # as its import does, whatever ran before
    hf_logging.disable_propagation()
    configure_logging(log_format, "INFO", stream=stream)
    for leftover in library.handlers:  # none is expected; any would have to write to the bypass
        if isinstance(leftover, logging.StreamHandler):
            leftover.setStream(bypass)
    logging.getLogger("huggingface_hub.utils._http").warning("retrying with token %s", HF_TOKEN)
    [line] = lines(stream)
    assert HF_TOKEN not in line
    assert f"retrying with token {REDACTED}" in line
    if log_format == "json":
        assert json.loads(line)["logger"] == "huggingface_hub.utils._http"
    assert bypass.getvalue() == ""


def test_a_token_in_a_real_slack_response_body_is_not_logged(stream):
    """slack_sdk logs whole response bodies at DEBUG; an OAuth exchange returns a bot token."""
    configure_logging("json", "DEBUG", stream=stream)
    with FakeSlack() as fake:
        fake.set_oauth_result("code-1", team_id="T9", bot_token=BOT_TOKEN, bot_user_id="UB9")
        response = WebClient(base_url=fake.api_url, timeout=5).oauth_v2_access(
            client_id="111.222", client_secret=SIGNING_SECRET, code="code-1"
        )
    assert response["access_token"] == BOT_TOKEN
    records = [json.loads(line) for line in lines(stream)]
    assert any(r["logger"].startswith("slack_sdk") for r in records)
    assert BOT_TOKEN not in stream.getvalue()


def test_redact_keeps_ordinary_text():
    text = "Qwen/Qwen2.5-7B has 1,234 downloads; xoxb is a prefix; hf_ alone too"
    assert redact(text) == text
    assert redact(f"Bearer {BOT_TOKEN}.") == f"Bearer {REDACTED}."


def refused_by_bolt(marker: str) -> int:
    """An unsigned request straight to a Bolt app (no gate in front): Bolt's request
    verification logs the whole body of what it refuses, at INFO."""
    app = App(
        name=BOLT_LOGGER,
        logger=logging.getLogger(BOLT_LOGGER),
        signing_secret=SIGNING_SECRET,
        token=BOT_TOKEN,
        token_verification_enabled=False,
    )
    body = f"command=%2Fshare&text={marker}"
    headers = {"x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": "v0=00"}
    return app.dispatch(BoltRequest(body=body, headers=headers)).status


@pytest.mark.parametrize("level", ["INFO", "WARNING"])
def test_slack_libraries_log_no_request_body_below_debug(stream, level):
    configure_logging("text", level, stream=stream)
    assert refused_by_bolt("BODY-MARKER-1") == 401
    logging.getLogger("slack_sdk.web.base_client").info("Received the body BODY-MARKER-2")
    logging.getLogger(f"{BOLT_LOGGER}:Listener").info("body: BODY-MARKER-3")
    logging.getLogger(BOLT_LOGGER).error("a listener failed")
    assert "BODY-MARKER" not in stream.getvalue()
    assert "a listener failed" in stream.getvalue()


def test_at_debug_the_slack_libraries_say_everything(stream):
    """The operator asked for it; and this is what the test above would otherwise see."""
    configure_logging("text", "DEBUG", stream=stream)
    assert refused_by_bolt("BODY-MARKER-4") == 401
    assert "Invalid request signature detected" in stream.getvalue()
    assert "BODY-MARKER-4" in stream.getvalue()


def test_the_bolt_app_logger_is_the_one_kept_quiet():
    assert BOLT_LOGGER == BOLT_APP_LOGGER
    assert is_slack_library(f"{BOLT_LOGGER}:RequestVerification")
    assert not is_slack_library("hubpulse.slackers")
