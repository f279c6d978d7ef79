"""The interface every provider implements, and the plain data it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict


class Message(TypedDict):
    """One chat message in the OpenAI chat completions shape."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Reply:
    """One candidate reply.

    ``text`` is Markdown from a model, or a finished script when ``is_code`` is
    True (the reference provider), in which case extraction is skipped.
    """

    text: str
    model: str
    finish_reason: str = "stop"
    is_code: bool = False
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached: bool = False


class Provider(Protocol):
    """A source of candidate scripts."""

    name: str
    model: str

    def complete(self, messages: list[Message], *, samples: int = 1) -> list[Reply]:
        """Return ``samples`` replies to ``messages``; raise ProviderError on failure."""
        ...
