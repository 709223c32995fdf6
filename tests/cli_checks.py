"""Checks on what the real CLI printed, as an operator would read it."""

from __future__ import annotations

from click.testing import Result


def one_line_error(result: Result) -> str:
    """The one line a refused command printed on stderr (exit code 2, no traceback)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
