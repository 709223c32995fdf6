"""manifest.yml declares exactly the app that ``hubpulse serve`` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.slack.oauth import BOT_SCOPES
from commands import all_commands

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_every_command_is_declared_with_its_help(manifest: dict[str, Any]):
    declared = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    commands = all_commands()
    assert list(declared) == [command.name for command in commands]
    for command in commands:
        entry = declared[command.name]
        assert entry["description"] == command.summary
        assert entry["usage_hint"] == command.usage.removeprefix(command.name).strip()
        assert entry["should_escape"] is False


def test_it_says_every_command_works_under_hubpulse(manifest: dict[str, Any]):
    description = " ".join(manifest["display_information"]["long_description"].split())
    assert "`/hubpulse <command>` (`/hubpulse share qwen`)" in description
    text = MANIFEST.read_text(encoding="utf-8")
    assert "`/hubpulse <command> ...` runs any of them" in text


def test_the_scopes_are_the_ones_oauth_asks_for(manifest: dict[str, Any]):
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES
    assert "user" not in manifest["oauth_config"]["scopes"]


def test_socket_mode_interactivity_home_and_events(manifest: dict[str, Any]):
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
    }
    assert 175 <= len(manifest["display_information"]["long_description"]) <= 4000
