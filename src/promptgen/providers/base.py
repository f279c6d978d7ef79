"""The interface every provider implements, and the plain data it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict
from urllib.parse import urlsplit, urlunsplit


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


def public_url(url: str | None) -> str:
    """Return ``url`` without user:password@, query or fragment, which may carry credentials.

    Only this form is printed, logged or written to the manifest.
    """
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:  # such as an unclosed IPv6 bracket: drop what could be credentials by hand
        without_query = url.split("?", 1)[0].split("#", 1)[0]
        scheme, separator, rest = without_query.partition("://")
        authority, slash, path = rest.partition("/")
        return f"{scheme}{separator}{authority.rpartition('@')[2]}{slash}{path}"
    # The host and port as written, after the last "@" of the authority, as urllib.parse reads it.
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class Provider(Protocol):
    """A source of candidate scripts."""

    name: str
    model: str

    def complete(self, messages: list[Message], *, samples: int = 1) -> list[Reply]:
        """Return ``samples`` replies to ``messages``; raise ProviderError on failure."""
        ...
