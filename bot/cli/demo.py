"""``hubpulse demo``: load the bundled illustrative dataset, then show what the bot answers."""

from __future__ import annotations

from dataclasses import replace

import click
from sqlalchemy.engine import make_url

from bot.cli.base import main, open_store, settings, user_errors
from bot.cli.terminal import plain_text
from bot.core.errors import UserError
from bot.core.settings import redact_url
from bot.ingest.demo import DemoLoad, load_demo, refuse_real_snapshots
from bot.store.reader import Reader
from commands.base import Context
from commands.dispatch import dispatch

SAMPLE_QUESTIONS = ("/share", "/share qwen", "/lineage cogito", "/releases cn")
NEXT_QUESTION = "/share deepseek"


def _where(url: str) -> str:
    """The database file for SQLite, else the URL without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return parsed.database
    return redact_url(url)


def _loaded(load: DemoLoad, models: int, where: str) -> str:
    first, last = load.taken_at[0], load.taken_at[-1]
    replaced = " (replacing the previous demo snapshots)" if load.replaced else ""
    return (
        f"Loaded {len(load.snapshots)} weekly demo snapshots{replaced} into {where}: "
        f"{first:%d %b %Y} to {last:%d %b %Y}, {models:,} models, in {load.seconds:.1f} s.\n"
        "This is illustrative data: real org and model names, invented figures, "
        "not live Hub figures."
    )


@main.command("demo")
@click.option(
    "--database-url",
    metavar="URL",
    help="Load into this database instead of HUBPULSE_DATABASE_URL (default: embedded SQLite).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Load even into a database that holds real snapshots (the demo's become the latest).",
)
@user_errors
def demo(database_url: str | None, force: bool) -> None:
    """Load the bundled illustrative dataset (8 weekly snapshots) and print sample answers.

    Running it again replaces the previous demo snapshots.
    """
    configured = settings()
    config = replace(configured, database_url=database_url) if database_url else configured
    engine = open_store(config)
    try:
        if not force:
            refuse_real_snapshots(engine)
        click.echo("Loading the demo dataset...", err=True)
        load = load_demo(engine, force=force)
        click.echo(_loaded(load, load.snapshots[-1].models, _where(config.database_url)))
        context = Context(Reader(engine), engine, want_chart=False)
        for question in SAMPLE_QUESTIONS:
            try:
                answer = dispatch(question, context).text
            except UserError as exc:
                answer = exc.message
            click.echo(f'\n$ hubpulse ask "{question}"\n{plain_text(answer)}')
    finally:
        engine.dispose()
    ask = f'hubpulse ask "{NEXT_QUESTION}"'
    if config.database_url != configured.database_url:
        ask = f"HUBPULSE_DATABASE_URL='{redact_url(config.database_url)}' {ask}"
    click.echo(f"\nAsk more with: {ask}\nThe demo data is in {_where(config.database_url)}.")
