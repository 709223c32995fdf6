"""Loopback fakes of the Hugging Face Hub and of Slack, driven by the real clients (README.md)."""
