"""Socket Mode: Slack sends requests over a WebSocket the app opens, so no public URL is needed.

One process per app: Slack spreads requests over every open connection, so several Socket
Mode processes would each see only some of them. Run more replicas in HTTP mode instead.
"""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler


def socket_mode_handler(app: App, app_token: str) -> SocketModeHandler:
    """The handler; ``.start()`` serves until interrupted, ``.connect()`` returns at once."""
    return SocketModeHandler(app, app_token)
