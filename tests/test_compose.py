"""compose.yaml parses, runs only real ``hubpulse`` commands, and configures them validly."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from dotenv import dotenv_values

from bot.cli import main
from bot.core.settings import SETTINGS, load_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
HUBPULSE = {name: s for name, s in SERVICES.items() if "build" in s}


def words(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def interpolate(value: str) -> str:
    """Compose's ``${NAME:-default}`` with nothing set: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def resolve(argv: list[str]) -> tuple[click.Command, list[str]]:
    """The click command ``hubpulse <argv>`` names, and the arguments left for it."""
    command: click.Command = main
    rest = list(argv)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        found = command.get_command(click.Context(command), name)
        assert found is not None, f"`hubpulse {' '.join(argv)}`: no command {name!r}"
        command = found
    return command, rest


def test_the_deployment_shape():
    assert set(HUBPULSE) == {"web-1", "web-2", "scheduler"}
    commands = sorted(" ".join(words(s["command"])) for s in HUBPULSE.values())
    assert commands == [
        "hubpulse scheduler",
        "hubpulse serve --no-scheduler",
        "hubpulse serve --no-scheduler",
    ]
    assert SERVICES["postgres"]["image"].startswith("postgres:")
    volumes = COMPOSE["volumes"]
    assert "pgdata" in volumes
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    for service in HUBPULSE.values():
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["env_file"] == ".env"


@pytest.mark.parametrize("name", sorted(HUBPULSE))
def test_every_command_is_a_real_hubpulse_verb_with_real_options(name):
    argv = words(HUBPULSE[name]["command"])
    assert argv[0] == "hubpulse"
    command, rest = resolve(argv[1:])
    assert not isinstance(command, click.Group), f"{argv} names a group, not a command"
    options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for word in rest:
        assert word.split("=")[0] in options, f"{argv}: `{command.name}` has no option {word}"


@pytest.mark.parametrize("name", sorted(HUBPULSE))
def test_every_service_is_configured_validly(name):
    environment = {k: interpolate(str(v)) for k, v in HUBPULSE[name]["environment"].items()}
    settings = load_settings(environment)
    assert settings.database_url.startswith("postgresql+psycopg://hubpulse:hubpulse@postgres:")
    assert settings.log_format == "json"


def test_health_checks_name_a_real_module():
    test = words(SERVICES["scheduler"]["healthcheck"]["test"])
    assert test[:4] == ["CMD", "python", "-m", "bot.ops.probe"]
    assert importlib.util.find_spec(test[3]) is not None


def test_the_proxy_balances_both_replicas():
    argv = words(SERVICES["proxy"]["command"])
    upstreams = [argv[i + 1] for i, word in enumerate(argv) if word == "--to"]
    assert upstreams == ["web-1:3000", "web-2:3000"]


def test_the_example_env_file_is_valid_configuration():
    """Copied to .env as it is, the example loads, and its names and commented values are true.

    load_settings ignores names it does not know, so a misspelt variable would pass unnoticed:
    every name the file mentions, set or commented out, must be a setting or one compose.yaml
    reads. A commented-out value must parse, and where the setting has a fixed default it must
    be that default (the comment tells the reader what they get by leaving the line alone).
    """
    text = (ROOT / ".env.example").read_text()
    values = {k: v or "" for k, v in dotenv_values(ROOT / ".env.example").items()}
    assert load_settings(values) == load_settings({})

    settings = {setting.env: setting for setting in SETTINGS}
    compose_text = (ROOT / "compose.yaml").read_text()
    compose_only = {name for name in values if name not in settings}
    assert compose_only == {"POSTGRES_PASSWORD", "HUBPULSE_PUBLIC_HOST"}
    for name in compose_only:
        assert f"${{{name}:-" in compose_text, f"{name}: compose.yaml does not read it"

    commented = re.findall(r"^#\s*([A-Z][A-Z0-9_]*)=(\S*)$", text, re.MULTILINE)
    assert {name for name, _ in commented} == set(settings) - set(values)
    for name, value in commented:
        setting = settings[name]
        if setting.default is not None:
            assert value == setting.default, f"{name}: the example says {value}"
        elif value:
            load_settings({name: value})  # raises ConfigError if the example is wrong
