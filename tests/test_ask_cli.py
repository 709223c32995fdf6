"""``hubpulse ask``: the same answers as Slack, in the terminal, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.cli.terminal import plain_text
from bot.store.engine import make_engine, upgrade
from tests.fixtures_cache import world_engine

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "hub.db"
    world_engine(path).dispose()
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", f"sqlite:///{path}")
    return path


def ask(*args: str) -> Result:
    return CliRunner().invoke(main, ["ask", *args], catch_exceptions=False)


def test_prints_the_mrkdwn_answer(database):
    result = ask("/share")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("*Share of Hub downloads by country*\n*By publisher*")
    assert "Hub data as of 2 Mar 2026 09:00 UTC" in result.stdout


def test_the_leading_slash_is_optional(database):
    assert ask("lineage cogito").stdout == ask("/lineage cogito").stdout


def test_json_prints_the_slack_payload(database):
    result = ask("/share qwen", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"text", "blocks"}
    assert payload["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Alibaba Qwen: share of Hub downloads"},
    }
    assert payload["text"].startswith("*Alibaba Qwen: share of Hub downloads*")


def test_chart_writes_the_png(database, tmp_path):
    out = tmp_path / "lineage.png"
    result = ask("/lineage cogito", "--chart", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(PNG)
    assert f"Chart written to {out}" in result.stderr
    assert "a US model fine-tuned from a Chinese base" in result.stdout


def test_chart_says_when_there_is_none(database, tmp_path):
    out = tmp_path / "none.png"
    result = ask("/releases cn", "--chart", str(out))
    assert result.exit_code == 0, result.output
    assert "This answer has no chart; nothing written." in result.stderr
    assert not out.exists()


def test_unknown_command_lists_the_commands(database):
    result = ask("/nope qwen")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "hubpulse: no command called `/nope`; the commands are `/share`"
    )


def test_unknown_name_is_one_line_and_escaped(database):
    result = ask("/share <!channel>")
    assert result.exit_code == 2
    assert result.stderr == "hubpulse: no org or model called `<!channel>`\n"


@pytest.mark.parametrize(
    ("mrkdwn", "plain"),
    [
        ("see <https://hf.co/x|x> now", "see x (https://hf.co/x) now"),
        ("<https://hf.co/x>", "https://hf.co/x"),
        ("hi <@U123> in <#C1|general>, <!here>", "hi @U123 in #general, @here"),
        ("`&lt;model&gt;` &amp; co", "`<model>` & co"),
        ("&lt;https://a|b&gt;", "<https://a|b>"),
    ],
)
def test_plain_text(mrkdwn, plain):
    assert plain_text(mrkdwn) == plain


def test_empty_cache(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", url)
    result = ask("/share")
    assert result.exit_code == 2
    assert "The Hub cache is empty: run `hubpulse refresh`" in result.stderr


def test_help_needs_no_data(tmp_path, monkeypatch):
    monkeypatch.setenv("HUBPULSE_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    result = ask("/hubpulse help")
    assert result.exit_code == 0, result.output
    assert "*/share* —" in result.stdout
