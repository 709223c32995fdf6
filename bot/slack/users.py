"""People's time zones from ``users.info``, remembered for an hour per workspace and user."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.clock import Clock, SystemClock

REMEMBER = timedelta(hours=1)


class UserTimezones:
    """IANA zone names (``Europe/Berlin``) by (team, user); "" when Slack would not say."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self._known: dict[tuple[str, str], tuple[datetime, str]] = {}
        self._lock = threading.Lock()

    def get(self, client: WebClient, team_id: str, user_id: str) -> str:
        if not user_id:
            return ""
        key = (team_id, user_id)
        now = self.clock.now()
        with self._lock:
            known = self._known.get(key)
        if known is not None and now - known[0] < REMEMBER:
            return known[1]
        try:
            zone = str(client.users_info(user=user_id)["user"].get("tz") or "")
        except SlackApiError:
            zone = ""  # logged by the client; commands fall back to their default zone
        with self._lock:
            self._known[key] = (now, zone)
        return zone
