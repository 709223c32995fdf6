"""What every command does with its text before answering: ``help``, ``public``, usage."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answers.message import Answer
from bot.answers.mrkdwn import echo, escape
from bot.core.errors import UserError
from commands.base import Command

HELP_WORDS = frozenset({"help", "-h", "--help", "?"})
PUBLIC_WORD = "public"


@dataclass(frozen=True)
class Args:
    """A command's words; ``public`` (a trailing word) posts the answer in the channel."""

    words: tuple[str, ...]
    public: bool = False
    help: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def publish(self, answer: Answer) -> Answer:
        answer.in_channel = self.public
        return answer


def parse_args(text: str) -> Args:
    """``/share qwen public`` -> words ("qwen",), public; ``/share help`` -> help."""
    words = tuple(text.split())
    public = bool(words) and words[-1].lower() == PUBLIC_WORD
    if public:
        words = words[:-1]
    asks_help = len(words) == 1 and words[0].lower() in HELP_WORDS
    return Args(words, public=public, help=asks_help)


def usage_line(command: Command) -> str:
    example = f" (for example `{escape(command.examples[0])}`)" if command.examples else ""
    return f"Usage: `{escape(command.usage)}`{example}. Try `{command.name} help`."


def usage_error(command: Command, problem: str = "") -> UserError:
    """The command's usage, after what was wrong (already escaped) if anything, on one line."""
    prefix = f"{problem} " if problem else ""
    return UserError(prefix + usage_line(command))


def bad_argument(command: Command, word: str, expected: str) -> UserError:
    """``word`` (the user's, echoed safely) is not what the command wanted there:
    "`funday` is not a day (`monday`, `fri`...). Usage: `/digest on [day] [time]` ..."."""
    return usage_error(command, f"{echo(word)} is not {expected}.")
