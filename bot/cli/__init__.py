"""The ``hubpulse`` command line. Each verb lives in its own module in this package."""

from __future__ import annotations

from bot.cli.base import main

__all__ = ["main", "run"]


def run() -> None:
    """Console-script entry point."""
    main.main(prog_name="hubpulse")
