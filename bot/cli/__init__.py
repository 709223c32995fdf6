"""The ``hubpulse`` command line. Each verb lives in its own module in this package."""

from __future__ import annotations

import importlib
import sys

import click

from bot.cli.base import main

VERB_MODULES = ("refresh", "ask", "demo")

for _name in VERB_MODULES:
    importlib.import_module(f"bot.cli.{_name}")

__all__ = ["main", "run"]


def run() -> None:
    """Console-script entry point."""
    try:
        main.main(prog_name="hubpulse", standalone_mode=True)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
