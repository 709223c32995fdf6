"""The two kinds of failure hubpulse distinguishes.

A ``UserError`` is expected (an unknown name, a bad argument, an empty cache): its message is
shown to the person as it is. Anything else is a bug or an outage: it is logged with its
traceback and the person sees a one-line apology.
"""


class UserError(Exception):
    """An expected problem whose message is safe and useful to show to the user."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else "Something is wrong with that request."


class ConfigError(UserError):
    """A setting is missing or malformed; the process cannot start with it."""


class EmptyCacheError(UserError):
    """No complete snapshot has been stored yet."""

    def __init__(self) -> None:
        super().__init__(
            "The Hub cache is empty: run `hubpulse refresh` (or `hubpulse demo` for sample data)."
        )


class RefreshError(Exception):
    """A refresh could not complete; the previous snapshot is still the one answering."""


class StoreUnavailable(Exception):
    """The database refused, failed or did not answer in time; nothing was changed by us.

    Not a ``UserError``: the person did nothing wrong, but they are told, in one line, to try
    again shortly (``bot.slack.running``).
    """
