"""hubpulse as a Slack app: Bolt wiring, the command adapter, App Home, HTTP and Socket Mode.

Commands (``commands/``) never talk to Slack; everything here turns their ``Answer`` into
Slack messages and Slack requests into their ``Context``.
"""
