"""Configuration is checked at start: every bad setting is one clear line, secrets never shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core.errors import ConfigError
from bot.core.registry import load_registry
from bot.core.settings import (
    SETTINGS,
    load_settings,
    masked,
    require_slack,
    settings_table,
    slack_mode,
)
from bot.store.engine import database_problem

ROOT = Path(__file__).resolve().parent.parent
BOT_TOKEN = "xoxb-1111-2222-abcdefABCDEF"
APP_TOKEN = "xapp-1-A111-2222-abcdef0123"
SIGNING_SECRET = "8f742231b10e8888abcd99e1f6285a5b"
CLIENT_SECRET = "0123456789abcdef0123456789abcdef"
HF_TOKEN = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345"
UNREACHABLE_POSTGRES = "postgresql+psycopg://hubpulse:s3cretpw@127.0.0.1:1/hubpulse"


def problems(environ: dict[str, str], **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ, **kwargs)
    return caught.value.message.splitlines()


def test_defaults_need_nothing_set(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings = load_settings({})
    assert settings.database_url == f"sqlite:///{tmp_path / 'hubpulse' / 'hubpulse.db'}"
    assert (settings.timezone, settings.refresh_hours, settings.port) == ("UTC", 6, 3000)
    assert settings.health_max_age_hours == 36
    assert settings.digest_late_hours == 24
    assert settings.share_alert_pp == 0.5
    assert settings.leader_check_seconds == 15
    assert settings.top_n == 20000
    assert (settings.log_format, settings.log_level) == ("text", "INFO")
    assert settings.slack_api_url == "https://slack.com/api/"
    assert slack_mode(settings) is None


def test_well_formed_values_are_parsed():
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "HF_TOKEN": HF_TOKEN,
            "HUBPULSE_TIMEZONE": "Asia/Shanghai",
            "HUBPULSE_REFRESH_HOURS": "12",
            "HUBPULSE_HEALTH_MAX_AGE_HOURS": "7.5",
            "HUBPULSE_SHARE_ALERT_PP": "1.25",
            "HUBPULSE_LOG_LEVEL": "debug",
            "SLACK_API_URL": "http://127.0.0.1:8080/api",
        }
    )
    assert settings.zone.key == "Asia/Shanghai"
    assert (settings.refresh_hours, settings.health_max_age_hours) == (12, 7.5)
    assert settings.share_alert_pp == 1.25
    assert settings.log_level == "DEBUG"
    assert settings.slack_api_url == "http://127.0.0.1:8080/api/"
    assert slack_mode(settings) == "socket"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-1111-user-token", "starting with xoxb- (this one starts xoxp-)"),
        ("SLACK_BOT_TOKEN", "not a token", "starting with xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-1111-2222-abcdef", "starting with xapp- (this one starts xoxb-)"),
        ("SLACK_SIGNING_SECRET", "not-hex!", "signing secret: hexadecimal digits"),
        ("SLACK_CLIENT_SECRET", "zz", "client secret: hexadecimal digits"),
        ("SLACK_CLIENT_ID", "abc", "1234567890.1234567890"),
        ("HF_TOKEN", "api_oldstyle", "starting with hf_"),
        ("HF_ENDPOINT", "huggingface.co", "http:// or https:// URL"),
        ("SLACK_API_URL", "ftp://slack.com/api", "http:// or https:// URL"),
        ("HUBPULSE_DATABASE_URL", "not a url", "is not a database URL"),
        ("HUBPULSE_TOP_N", "lots", "whole number between 1 and 1,000,000"),
        ("HUBPULSE_TIMEZONE", "Mars/Olympus_Mons", "'Mars/Olympus_Mons' is not a known IANA"),
        ("HUBPULSE_TIMEZONE", "../../etc/passwd", "is not a known IANA timezone"),
        ("HUBPULSE_REFRESH_HOURS", "0", "whole number between 1 and 168"),
        ("HUBPULSE_REFRESH_HOURS", "1.5", "whole number between 1 and 168"),
        ("HUBPULSE_HEALTH_MAX_AGE_HOURS", "-1", "more than 0"),
        ("HUBPULSE_DIGEST_LATE_HOURS", "nan", "at least 1 second"),
        ("HUBPULSE_DIGEST_LATE_HOURS", "0", "at least 1 second"),
        ("HUBPULSE_DIGEST_LATE_HOURS", "0.0001", "at least 1 second"),
        ("HUBPULSE_DIGEST_LATE_HOURS", "169", "at most 168"),
        ("HUBPULSE_SHARE_ALERT_PP", "150", "at most 100"),
        ("HUBPULSE_PORT", "70000", "between 1 and 65,535"),
        ("HUBPULSE_LEADER_CHECK_SECONDS", "16", "number of seconds from 1 to 15"),
        ("HUBPULSE_LEADER_CHECK_SECONDS", "0.5", "number of seconds from 1 to 15"),
        ("HUBPULSE_LEADER_CHECK_SECONDS", "nan", "number of seconds from 1 to 15"),
        ("HUBPULSE_LOG_FORMAT", "xml", "text or json"),
        ("HUBPULSE_LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING or ERROR"),
    ],
)
def test_each_bad_setting_is_one_line_naming_its_variable(variable, value, expected):
    environ = {variable: value}
    if variable == "SLACK_APP_TOKEN":
        environ["SLACK_BOT_TOKEN"] = BOT_TOKEN
    if variable in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        environ |= {
            "SLACK_CLIENT_ID": "123.456",
            "SLACK_CLIENT_SECRET": CLIENT_SECRET,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        } | {variable: value}
    [line] = problems(environ)
    assert line.startswith(f"{variable}: ")
    assert expected in line
    if len(value) > 6:
        assert value not in line or variable == "HUBPULSE_TIMEZONE"


def test_every_problem_is_reported_at_once():
    lines = problems(
        {
            "SLACK_BOT_TOKEN": "xoxp-user",
            "HUBPULSE_TIMEZONE": "Nowhere/Town",
            "HUBPULSE_TOP_N": "-5",
            "HUBPULSE_LOG_FORMAT": "yaml",
        }
    )
    assert [line.split(":")[0] for line in lines] == [
        "HUBPULSE_TOP_N",
        "SLACK_BOT_TOKEN",
        "HUBPULSE_LOG_FORMAT",
        "HUBPULSE_TIMEZONE",
    ]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"SLACK_CLIENT_ID": "123.456"}, "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: set both"),
        ({"SLACK_CLIENT_SECRET": CLIENT_SECRET}, "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"),
        (
            {"SLACK_CLIENT_ID": "123.456", "SLACK_CLIENT_SECRET": CLIENT_SECRET},
            "SLACK_SIGNING_SECRET: required with SLACK_CLIENT_ID",
        ),
        ({"SLACK_APP_TOKEN": APP_TOKEN}, "SLACK_BOT_TOKEN: required with SLACK_APP_TOKEN"),
    ],
)
def test_settings_that_only_work_together(environ, expected):
    assert expected in problems(environ)[0]


def test_a_secret_never_appears_in_a_problem():
    secret = "xoxp-9999-THIS-IS-SECRET"
    assert not any(secret in line for line in problems({"SLACK_BOT_TOKEN": secret}))


def test_an_unreachable_database_is_a_problem_at_start():
    [line] = problems(
        {"HUBPULSE_DATABASE_URL": UNREACHABLE_POSTGRES}, database_check=database_problem
    )
    assert line.startswith("HUBPULSE_DATABASE_URL: cannot open database")
    assert "s3cretpw" not in line
    load_settings({"HUBPULSE_DATABASE_URL": UNREACHABLE_POSTGRES})  # not checked unless asked


def test_slack_modes():
    http = load_settings({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET})
    oauth = load_settings(
        {
            "SLACK_CLIENT_ID": "123.456",
            "SLACK_CLIENT_SECRET": CLIENT_SECRET,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        }
    )
    assert (require_slack(http), require_slack(oauth)) == ("http", "oauth")
    with pytest.raises(ConfigError, match="Slack is not configured"):
        require_slack(load_settings({}))


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, ["SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"]),
        ({"SLACK_SIGNING_SECRET": SIGNING_SECRET}, ["SLACK_BOT_TOKEN", "SLACK_CLIENT_ID"]),
    ],
)
def test_a_half_configured_slack_names_the_missing_setting(environ, named):
    with pytest.raises(ConfigError) as caught:
        require_slack(load_settings(environ))
    message = caught.value.message
    assert "is set but not enough" in message
    assert all(f"add {named[0]}" in message or name in message for name in named)
    assert message.index(named[0]) < message.index(named[1])


def test_the_digest_grace_time_the_settings_accept_is_one_the_scheduler_accepts():
    """Whatever ``HUBPULSE_DIGEST_LATE_HOURS`` passes, APScheduler takes as a grace time."""
    from apscheduler.schedulers.background import BackgroundScheduler

    smallest = load_settings({"HUBPULSE_DIGEST_LATE_HOURS": "0.0003"})
    scheduler = BackgroundScheduler()
    scheduler.add_job(print, "interval", hours=1, misfire_grace_time=smallest.digest_late_seconds)
    with pytest.raises(TypeError, match="misfire_grace_time must be either None or a positive"):
        scheduler.add_job(print, "interval", hours=1, misfire_grace_time=0)


def test_masked_settings_show_kind_and_length_only():
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "HF_TOKEN": HF_TOKEN,
            "HUBPULSE_DATABASE_URL": "postgresql+psycopg://hubpulse:s3cretpw@db:5432/hubpulse",
        }
    )
    shown = masked(settings)
    assert shown["slack_bot_token"] == f"xoxb-**** ({len(BOT_TOKEN)} chars)"
    assert shown["slack_app_token"].startswith("xapp-****")
    assert shown["hf_token"].startswith("hf_****")
    assert shown["slack_signing_secret"] == "(not set)"
    assert "s3cretpw" not in shown["database_url"]
    text = " ".join(shown.values())
    for secret in (BOT_TOKEN, APP_TOKEN, HF_TOKEN):
        assert secret not in text
    assert set(settings.secrets) == {BOT_TOKEN, APP_TOKEN, HF_TOKEN, "s3cretpw"}


def test_config_check_prints_masked_configuration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"SLACK_APP_TOKEN={APP_TOKEN}\nHUBPULSE_TIMEZONE=Europe/Paris\n")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", f"sqlite:///{tmp_path / 'hp.db'}")
    result = CliRunner().invoke(main, ["config", "check"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert lines["SLACK_BOT_TOKEN"].endswith("(environment)")
    assert "xoxb-****" in lines["SLACK_BOT_TOKEN"]
    assert lines["SLACK_APP_TOKEN"].endswith("(.env)")
    assert "Europe/Paris" in lines["HUBPULSE_TIMEZONE"]
    assert lines["HUBPULSE_REFRESH_HOURS"].split()[1:] == ["6", "(default)"]
    assert "Slack mode: Socket Mode, one workspace" in result.stdout
    assert "Database schema: empty" in result.stdout
    assert result.stdout.rstrip().endswith("\nConfiguration OK.")
    assert BOT_TOKEN not in result.output
    assert APP_TOKEN not in result.output


def test_config_check_does_not_call_a_config_serve_refuses_ok(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", f"sqlite:///{tmp_path / 'hp.db'}")
    result = CliRunner().invoke(main, ["config", "check"])
    assert result.exit_code == 0, result.output
    verdict = result.stdout.rstrip().splitlines()[-1]
    assert verdict.startswith("Configuration OK for the CLI and the scheduler; hubpulse serve:")
    assert "add SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)" in verdict
    assert "\nConfiguration OK.\n" not in result.stdout


def test_config_check_exits_2_with_one_line_per_problem(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-user-token-here")
    monkeypatch.setenv("HUBPULSE_TIMEZONE", "Atlantis/Capital")
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", UNREACHABLE_POSTGRES)
    result = CliRunner().invoke(main, ["config", "check"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert [line.split(":")[1].strip() for line in lines] == [
        "SLACK_BOT_TOKEN",
        "HUBPULSE_TIMEZONE",
        "HUBPULSE_DATABASE_URL",
    ]
    assert all(line.startswith("hubpulse: ") for line in lines)
    assert "xoxp-user-token-here" not in result.stderr


def test_every_setting_is_documented():
    """The README's settings table and .env.example list every variable (docs cannot drift)."""
    table = settings_table()
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    for setting in SETTINGS:
        assert f"`{setting.env}`" in table
        assert setting.env in example, f"{setting.env} missing from .env.example"
        assert f"`{setting.env}`" in readme, f"{setting.env} missing from the README's table"
    assert table in readme, "the README's settings table is not settings_table()'s output"


def test_config_check_reads_the_org_registry_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", f"sqlite:///{tmp_path / 'hp.db'}")
    orgs = tmp_path / "atom.csv"
    orgs.write_text("hf_org,region,notes\nsome-new-lab,us,\n", encoding="utf-8")
    monkeypatch.setenv("HUBPULSE_ORGS_FILE", str(orgs))
    result = CliRunner().invoke(main, ["config", "check"])
    assert result.exit_code == 0, result.output
    bundled = len(load_registry())
    assert f"Org registry: {bundled + 1} orgs with HUBPULSE_ORGS_FILE" in result.stdout

    broken = tmp_path / "broken.csv"
    broken.write_text("hf_org,region,notes\nsome-other-lab,mars,\n", encoding="utf-8")
    monkeypatch.setenv("HUBPULSE_ORGS_FILE", str(broken))
    result = CliRunner().invoke(main, ["config", "check"])
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("hubpulse: HUBPULSE_ORGS_FILE: ")
    assert "Traceback" not in result.output
