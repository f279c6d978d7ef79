"""A provider for people who use a chat web page instead of an API.

The first run writes the prompt to a file and stops with ``ManualPromptWritten``.
The person pastes the prompt into the chat, saves the model's reply, and runs
again with the reply, which this provider returns as its only candidate.
"""

from __future__ import annotations

from pathlib import Path

from promptgen.errors import PromptgenError, ProviderError
from promptgen.fsutil import write_atomic
from promptgen.providers.base import Message, Reply

_HEADINGS = {"system": "System message", "user": "User message", "assistant": "Assistant message"}


class ManualPromptWritten(PromptgenError):
    """A stop after the prompt file is written. It is not a failure, so its exit status is 0."""

    exit_code = 0


class ManualProvider:
    """A provider that writes the prompt for a person to paste into a chat, or returns the reply they saved."""

    name = "manual"
    model = "manual"

    def __init__(self, prompt_path: Path, response: str | None) -> None:
        self.prompt_path = prompt_path
        self.response = response

    def complete(self, messages: list[Message], *, samples: int = 1) -> list[Reply]:
        """Write the prompt and raise ManualPromptWritten, or return the saved reply."""
        if samples != 1:
            raise ProviderError(
                f"the manual provider returns one reply per run, but {samples} samples were requested: "
                "use --samples 1"
            )

        if self.response is None:
            write_atomic(self.prompt_path, format_prompt(messages))
            raise ManualPromptWritten(
                f"wrote the prompt to {self.prompt_path}: paste it into the chat, then paste the model's reply "
                "into a file and run again with --response FILE (or --response - to read it from stdin)"
            )

        if not self.response.strip():
            raise ProviderError(
                "the response is empty: paste the model's whole reply into the file given to --response"
            )
        return [Reply(text=self.response, model=self.model)]


def format_prompt(messages: list[Message]) -> str:
    """Render the messages as Markdown with one heading per message, in order."""
    sections = [f"## {_HEADINGS[message['role']]}\n\n{message['content'].strip()}\n" for message in messages]
    return "\n".join(sections)
