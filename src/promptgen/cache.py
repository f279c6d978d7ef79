"""A disk cache of model replies, so that a repeated request with the same settings sends nothing.

An entry is keyed by the SHA-256 of a canonical JSON document holding the base URL,
model, messages, sampling parameters and the sample's index. The API key is never
part of the key or the entry. Truncated and filtered replies are not stored, and
errors never reach the cache because providers raise them instead of returning a reply.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from promptgen.fsutil import write_atomic
from promptgen.providers.base import Message, Reply

logger = logging.getLogger(__name__)

# Part of every key, so that a change to the key or entry layout misses old entries.
CACHE_FORMAT = 1

# A reply cut off by the token limit, or emptied by a content filter, is not
# worth replaying, so the next run sends the request again.
UNCACHED_FINISH_REASONS = frozenset({"length", "content_filter"})

_KEY_PATTERN = re.compile(r"[0-9a-f]{64}")


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """Return $PROMPTGEN_CACHE_DIR, else $XDG_CACHE_HOME/promptgen/responses, else ~/.cache/promptgen/responses."""
    explicit = environ.get("PROMPTGEN_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()

    # The XDG Base Directory Specification (0.7 and later) requires absolute paths,
    # so a relative XDG_CACHE_HOME is invalid and ignored.
    xdg = environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "promptgen" / "responses"

    home = Path(environ["HOME"]) if environ.get("HOME") else Path.home()
    return home / ".cache" / "promptgen" / "responses"


def cache_key(
    *,
    base_url: str,
    model: str,
    messages: Sequence[Message],
    parameters: Mapping[str, Any],
    sample_index: int,
) -> str:
    """Hash a request into a hex key. ``parameters`` are sampling settings such as temperature and seed."""
    document = {
        "format": CACHE_FORMAT,
        "base_url": base_url,
        "model": model,
        "messages": [{"role": message["role"], "content": message["content"]} for message in messages],
        "parameters": dict(parameters),
        "sample_index": sample_index,
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """Replies stored as one JSON file per key under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def default(cls, environ: Mapping[str, str] | None = None) -> ResponseCache:
        """Open the cache in ``default_cache_dir`` of ``environ``, or of the process environment."""
        return cls(default_cache_dir(os.environ if environ is None else environ))

    def path_for(self, key: str) -> Path:
        if _KEY_PATTERN.fullmatch(key) is None:
            raise ValueError(f"invalid cache key {key!r}: expected 64 lowercase hex digits from cache_key()")
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Reply | None:
        """Return the stored reply marked ``cached``, or None when there is none or it is unreadable."""
        path = self.path_for(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            logger.warning("ignoring unreadable cache entry %s: %s", path, error)
            return None

        try:
            return _reply_from_entry(json.loads(raw))
        except (UnicodeDecodeError, json.JSONDecodeError, TypeError, KeyError) as error:
            # The next put() for this key replaces the entry.
            logger.warning("ignoring corrupt cache entry %s: %s", path, error)
            return None

    def put(self, key: str, reply: Reply) -> None:
        """Store ``reply`` unless it was truncated or filtered.

        A failed write is logged and otherwise ignored, because the caller already
        has the reply, and ending the run over a full or read-only cache folder
        would waste it.
        """
        path = self.path_for(key)
        if reply.finish_reason in UNCACHED_FINISH_REASONS:
            return

        entry = {
            "text": reply.text,
            "model": reply.model,
            "finish_reason": reply.finish_reason,
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
        }
        try:
            write_atomic(path, json.dumps(entry, ensure_ascii=False, indent=1) + "\n")
        except OSError as error:
            logger.warning("could not write cache entry %s: %s", path, error)


def _reply_from_entry(entry: Any) -> Reply:
    if not isinstance(entry, dict):
        raise TypeError(f"expected a JSON object, found {type(entry).__name__}")
    for name in ("text", "model", "finish_reason"):
        if not isinstance(entry[name], str):
            raise TypeError(f"field {name!r} is not a string")
    for name in ("prompt_tokens", "completion_tokens"):
        value = entry.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"field {name!r} is not a whole number")

    return Reply(
        text=entry["text"],
        model=entry["model"],
        finish_reason=entry["finish_reason"],
        prompt_tokens=entry.get("prompt_tokens"),
        completion_tokens=entry.get("completion_tokens"),
        cached=True,
    )
