"""hubpulse: open-model landscape answers for Slack."""
