"""Org registry files and URLs: read with a timeout and a size limit, layered over the
bundled registry (``HUBPULSE_ORGS_FILE``), then the imports stored in the database over that.

Precedence, lowest first: the bundled ``bot/data/orgs.csv``, the file the setting names (read
once per process), the rows ``hubpulse orgs import --apply`` stored (read at every refresh).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from functools import cache
from pathlib import Path

from sqlalchemy import Engine

from bot.core.errors import ConfigError, UserError
from bot.core.registry import Org, Registry, RegistryError, load_registry, parse_rows
from bot.store.orgs import with_imports

MAX_BYTES = 4 * 1024 * 1024
"""A registry of tens of thousands of orgs fits; anything larger is not a registry."""
TIMEOUT_SECONDS = 20


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "hubpulse"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            body: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise UserError(f"{url}: the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(f"{url}: cannot be fetched ({reason})") from None
    return body


def read_source(source: str) -> str:
    """The text of a registry file or http(s) URL; UserError (one line) when it cannot be
    read, is larger than ``MAX_BYTES`` or is not UTF-8."""
    if _is_url(source):
        body = _fetch(source)
    else:
        try:
            with Path(source).open("rb") as file:
                body = file.read(MAX_BYTES + 1)
        except OSError as exc:
            raise UserError(f"{source}: cannot be read ({exc.strerror or exc})") from None
    if len(body) > MAX_BYTES:
        raise UserError(f"{source}: larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{source}: not UTF-8 text") from None


def orgs_from(source: str, known: Registry) -> list[Org]:
    """The orgs a file or URL lists (our CSV or the ATOM format); ATOM rows for orgs in
    ``known`` keep what it says of them but the region."""
    name = source if _is_url(source) else Path(source).name
    try:
        return parse_rows(read_source(source).splitlines(), name, known)
    except RegistryError as exc:
        raise UserError(str(exc)) from None


@cache
def configured_registry(orgs_file: str | None) -> Registry:
    """The bundled registry with the setting's file over it, read once per process."""
    bundled = load_registry()
    if not orgs_file:
        return bundled
    try:
        return bundled.layered(orgs_from(orgs_file, bundled))
    except (UserError, ValueError) as exc:
        message = exc.message if isinstance(exc, UserError) else str(exc)
        raise ConfigError(f"HUBPULSE_ORGS_FILE: {message}") from None


def effective_registry(engine: Engine, orgs_file: str | None) -> Registry:
    """The registry aggregates and answers use: bundled, the setting's file, stored imports."""
    return with_imports(engine, configured_registry(orgs_file))
