"""The container's health check: ``python -m bot.probe`` exits 0 only when hubpulse is healthy.

In HTTP mode it asks ``GET /healthz`` on ``HUBPULSE_PORT`` (default 3000), as a load balancer
would. Socket Mode and ``hubpulse scheduler`` have no HTTP server, so there (or with
``--direct``) it applies the same rule, ``bot.health.health``, to the database itself. Slim images
have no curl; this needs nothing beyond hubpulse.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from datetime import timedelta

TIMEOUT_SECONDS = 5


def probe_http(url: str) -> int:
    """0 when ``url`` answers 200, 1 otherwise (the exit codes Docker expects)."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthz: {exc}", file=sys.stderr)
        return 1


def probe_database() -> int:
    """0 when the latest snapshot is fresh enough, judged from the database."""
    from bot.cache import Cache
    from bot.db import make_engine
    from bot.errors import ConfigError
    from bot.health import HEALTHY, health
    from bot.settings import load_settings

    try:
        config = load_settings()
        engine = make_engine(config.database_url)
    except ConfigError as exc:
        print(f"health: {exc.message}", file=sys.stderr)
        return 1
    try:
        status, body = health(Cache(engine), timedelta(hours=config.health_max_age_hours))
    finally:
        engine.dispose()
    print(json.dumps(body))
    return 0 if status == HEALTHY else 1


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--direct" in args or os.environ.get("SLACK_APP_TOKEN", "").strip():
        return probe_database()
    port = os.environ.get("HUBPULSE_PORT", "").strip() or "3000"
    return probe_http(f"http://127.0.0.1:{port}/healthz")


if __name__ == "__main__":
    sys.exit(main())
