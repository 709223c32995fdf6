"""One shared jinja2 environment for every answer, with the filters that make numbers readable.

Every ``{{ value }}`` in a template is escaped for Slack's mrkdwn (``bot.answers.mrkdwn``; HTML
autoescape would also mangle quotes) unless it already is: the filters below return ``Mrkdwn``
strings, which are passed through, and anything else is escaped on output. So a template that
forgets ``|mrkdwn`` still cannot ping ``<!channel>``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FunctionLoader, StrictUndefined

from bot.answers.blocks import build_message
from bot.answers.message import Answer
from bot.answers.mrkdwn import Mrkdwn, echo, escape, inline
from bot.store.reader import Snapshot
from bot.store.snapshots import is_demo_source

STALE_AFTER = timedelta(days=2)


def plural(word: str, count: float | None, many: str = "") -> Mrkdwn:
    """``word`` for a count of one, else its plural (``many``, by default ``word`` + s).

    In a template: ``{{ "model"|plural(total) }}``, ``{{ "delivery"|plural(n, "deliveries") }}``.
    """
    return escape(word if count == 1 else many or f"{word}s")


def human(value: float | None) -> Mrkdwn:
    """A count as a person would say it: 999, 12.3K, 1.2M, 2.2B."""
    if value is None:
        return Mrkdwn("n/a")
    number = float(value)
    if abs(number) < 999.5:
        return Mrkdwn(f"{round(number):d}")
    for limit, suffix in ((1e3, "K"), (1e6, "M"), (1e9, "B")):
        scaled = number / limit
        text = f"{scaled:.0f}" if abs(scaled) >= 99.95 else f"{scaled:.1f}".removesuffix(".0")
        if abs(float(text)) < 1000 or suffix == "B":
            break
    return Mrkdwn(text + suffix)


def downloads(value: float | None) -> Mrkdwn:
    """1 download, 12.3K downloads."""
    return Mrkdwn(f"{human(value)} {plural('download', value)}")


def thousands(value: int | None) -> Mrkdwn:
    """An exact count with thousands separators: 151,448."""
    return Mrkdwn("n/a" if value is None else f"{value:,}")


def percent(fraction: float | None) -> Mrkdwn:
    """A share (0..1) as a percentage with one decimal: 17.1%; tiny shares as <0.1%."""
    if fraction is None:
        return Mrkdwn("n/a")
    if fraction == 0:
        return Mrkdwn("0%")
    if 0 < fraction < 0.0005:
        return Mrkdwn("<0.1%")
    return Mrkdwn(f"{fraction * 100:.1f}%")


def points(delta: float | None) -> Mrkdwn:
    """A change of share (a difference of fractions) in percentage points: +0.6 pp."""
    if delta is None:
        return Mrkdwn("n/a")
    value = delta * 100
    if abs(value) < 0.05:
        return Mrkdwn("±0.0 pp")
    return Mrkdwn(f"{value:+.1f} pp")


def date(value: datetime | None, with_time: bool = False) -> Mrkdwn:
    """5 Jan 2026 (or 5 Jan 2026 14:03 UTC)."""
    if value is None:
        return Mrkdwn("unknown date")
    text = f"{value.day} {value:%b %Y}"
    return Mrkdwn(f"{text} {value:%H:%M} UTC" if with_time else text)


def local_time(value: datetime, zone: str) -> Mrkdwn:
    """Monday 5 Jan 2026 09:00 (Europe/Berlin): a moment in a channel's timezone."""
    local = value.astimezone(ZoneInfo(zone))
    return escape(f"{local:%A} {local.day} {local:%b %Y %H:%M} ({zone})")


def _finalize(value: Any) -> Any:
    """Escape whatever a template prints unless a filter already made it safe."""
    if isinstance(value, str):
        return escape(value)
    return value


def _load(name: str) -> str | None:
    resource = resources.files("templates").joinpath(name)
    return resource.read_text(encoding="utf-8") if resource.is_file() else None


def _make_environment() -> Environment:
    env = Environment(
        loader=FunctionLoader(_load),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - HTML escaping is wrong for Slack; _finalize escapes
        finalize=_finalize,
    )
    env.filters.update(
        mrkdwn=escape,
        echo=echo,
        inline=inline,
        human=human,
        downloads=downloads,
        thousands=thousands,
        pct=percent,
        pp=points,
        date=date,
        local_time=local_time,
        plural=plural,
    )
    return env


ENVIRONMENT = _make_environment()


def render(template: str, **context: Any) -> str:
    """The template's text output (the block layout described in ``bot.answers.blocks``)."""
    return ENVIRONMENT.get_template(template).render(**context)


def render_message(template: str, **context: Any) -> Answer:
    """Render a template and build its validated Block Kit message."""
    return build_message(render(template, **context))


def as_of(snapshot: Snapshot, now: datetime) -> dict[str, Any]:
    """What every answer says about its data: when it was taken, whether it is stale, and
    whether it is the bundled illustrative demo rather than live Hub figures."""
    age = now - snapshot.taken_at
    return {
        "taken_at": snapshot.taken_at,
        "stale": age > STALE_AFTER,
        "age_days": age.days,
        "illustrative": is_demo_source(snapshot.source),
    }
