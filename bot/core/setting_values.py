"""How each setting's value is checked: one parser per kind of value, each raising ValueError
with a message that names what was expected (never the value itself, which may be a secret)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

Parser = Callable[[str], object]

HEX = re.compile(r"[0-9a-fA-F]{8,}")
TOKEN_BODY = re.compile(r"[A-Za-z0-9-]+")


def token(prefix: str, kind: str) -> Parser:
    def parse(value: str) -> str:
        if not value.startswith(prefix) or not TOKEN_BODY.fullmatch(value):
            shown = value.split("-", 1)[0] + "-" if "-" in value[:6] else "something else"
            raise ValueError(f"must be {kind} starting with {prefix} (this one starts {shown})")
        return value

    return parse


def hex(what: str) -> Parser:
    def parse(value: str) -> str:
        if not HEX.fullmatch(value):
            raise ValueError(f"must be the app's {what}: hexadecimal digits, as Slack shows it")
        return value

    return parse


def hf_token(value: str) -> str:
    if not value.startswith("hf_") or not value[3:].isalnum():
        raise ValueError("must be a Hugging Face access token starting with hf_")
    return value


def client_id(value: str) -> str:
    if not re.fullmatch(r"\d+\.\d+", value):
        raise ValueError("must look like 1234567890.1234567890 (Basic Information in Slack)")
    return value


def http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    return value


def slack_api_url(value: str) -> str:
    return http_url(value).rstrip("/") + "/"


def database_url(value: str) -> str:
    try:
        make_url(value)
    except ArgumentError:
        raise ValueError(
            "is not a database URL (expected sqlite:///path or postgresql+psycopg://user@host/db)"
        ) from None
    return value


def whole(low: int, high: int) -> Parser:
    def parse(value: str) -> int:
        try:
            number = int(value.replace("_", ""))
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            raise ValueError(f"must be a whole number between {low:,} and {high:,}")
        return number

    return parse


def _float(value: str) -> float:
    """``value`` as a float; NaN (which every range check refuses) when it is not a number."""
    try:
        return float(value)
    except ValueError:
        return float("nan")


def number(low: float, high: float) -> Parser:
    def parse(value: str) -> float:
        number = _float(value)
        if not (number > low and number <= high):
            raise ValueError(f"must be a number more than {low:g} and at most {high:g}")
        return number

    return parse


def seconds(low: float, high: float) -> Parser:
    """A number of seconds from ``low`` to ``high``, both included."""

    def parse(value: str) -> float:
        number = _float(value)
        if not low <= number <= high:
            raise ValueError(f"must be a number of seconds from {low:g} to {high:g}")
        return number

    return parse


def hours(high: float, *, at_least_seconds: int) -> Parser:
    """A number of hours, up to ``high``, that is at least ``at_least_seconds`` whole seconds."""

    def parse(value: str) -> float:
        number = _float(value)
        if not (
            math.isfinite(number) and int(number * 3600) >= at_least_seconds and number <= high
        ):
            raise ValueError(
                f"must be a number of hours, at least {at_least_seconds} second(s) and at most "
                f"{high:g} (the scheduler needs a positive grace time)"
            )
        return number

    return parse


def choice(*choices: str, upper: bool = False) -> Parser:
    def parse(value: str) -> str:
        value = value.upper() if upper else value.lower()
        if value not in choices:
            raise ValueError(f"must be {', '.join(choices[:-1])} or {choices[-1]}")
        return value

    return parse


def timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not a known IANA timezone (use a name like UTC or Europe/Paris)"
        ) from None
    return value
