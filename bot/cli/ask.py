"""``hubpulse ask "/share qwen"``: any slash command's answer, in the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.cli.base import CliError, main, open_store, settings, user_errors
from bot.cli.terminal import plain_text
from bot.core.errors import UserError
from bot.ingest.org_source import effective_registry
from bot.store.reader import Reader
from commands.base import Context
from commands.dispatch import dispatch


@main.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help='Print the Slack payload {"text", "blocks"}.')
@click.option(
    "--chart",
    "chart_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the answer's chart (PNG) to this file.",
)
@user_errors
def ask(text: str, as_json: bool, chart_path: Path | None) -> None:
    """Answer a slash command from the local cache, as Slack would.

    TEXT is the command line, e.g. "/share qwen" or "/lineage cogito". The answer is printed
    as plain text (links as "text (url)"); --json prints Slack's mrkdwn payload.
    """
    config = settings()
    engine = open_store(config)
    try:
        registry = effective_registry(engine, config.orgs_file)
        context = Context(Reader(engine, registry), engine, want_chart=chart_path is not None)
        answer = dispatch(text, context)
    except UserError as exc:  # the same one line as in Slack, as plain text
        raise CliError(plain_text(exc.message)) from None
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps(answer.payload(), indent=2, ensure_ascii=False))
    else:
        click.echo(plain_text(answer.text))
    if chart_path is None:
        return
    if answer.chart is None:
        click.echo("This answer has no chart; nothing written.", err=True)
        return
    try:
        chart_path.write_bytes(answer.chart.png)
    except OSError as exc:
        raise CliError(f"cannot write the chart to {chart_path}: {exc.strerror}") from None
    click.echo(f"Chart written to {chart_path} ({answer.chart.title}).", err=True)
