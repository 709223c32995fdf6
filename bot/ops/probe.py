"""The container's health check: ``python -m bot.ops.probe`` exits 0 only when hubpulse is healthy.

In HTTP mode it asks ``GET /healthz`` on the configured port (``HUBPULSE_PORT``), as a load
balancer would. Socket Mode and ``hubpulse scheduler`` have no HTTP server, so there (or with
``--direct``) it applies the same rule, ``bot.ops.health.health``, to the database itself.
Slim images have no curl; this needs nothing beyond hubpulse.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from datetime import timedelta

from bot.core.errors import ConfigError
from bot.core.settings import Settings, load_settings
from bot.ops.health import HEALTHY, health
from bot.store.engine import make_engine
from bot.store.reader import Reader

TIMEOUT_SECONDS = 5


def probe_http(url: str) -> int:
    """0 when ``url`` answers 200, 1 otherwise (the exit codes Docker expects)."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthz: {exc}", file=sys.stderr)
        return 1


def probe_database(config: Settings) -> int:
    """0 when the latest snapshot is fresh enough, judged from the database."""
    try:
        engine = make_engine(config.database_url)
    except ConfigError as exc:
        print(f"health: {exc.message}", file=sys.stderr)
        return 1
    try:
        status, body = health(Reader(engine), timedelta(hours=config.health_max_age_hours))
    finally:
        engine.dispose()
    print(json.dumps(body))
    return 0 if status == HEALTHY else 1


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        config = load_settings()
    except ConfigError as exc:
        print(f"health: {exc.message}", file=sys.stderr)
        return 1
    if "--direct" in args or config.slack_app_token:
        return probe_database(config)
    return probe_http(f"http://127.0.0.1:{config.port}/healthz")


if __name__ == "__main__":
    sys.exit(main())
