from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from chat_server import ChatServer, Completion, ErrorResponse, chat_server  # noqa: F401

from promptgen.cache import ResponseCache, cache_key, default_cache_dir
from promptgen.errors import ProviderError
from promptgen.providers.base import Message, Reply
from promptgen.providers.openai_provider import OpenAIProvider, OpenAISettings

MESSAGES: list[Message] = [
    {"role": "system", "content": "You write Python scripts."},
    {"role": "user", "content": "Write a splitter."},
]
KEY_FIELDS: dict[str, Any] = {
    "base_url": "http://127.0.0.1:8000/v1",
    "model": "test-model",
    "messages": MESSAGES,
    "parameters": {"temperature": 0.0, "seed": None},
    "sample_index": 0,
}
REPLY = Reply(text="```python\nprint(1)\n```", model="test-model", prompt_tokens=10, completion_tokens=5)


def make_key(**changes: Any) -> str:
    return cache_key(**{**KEY_FIELDS, **changes})


def make_provider(server: ChatServer, cache: ResponseCache | None, **settings: Any) -> OpenAIProvider:
    options: dict[str, Any] = {"base_url": server.base_url, "model": "test-model", "timeout": 5.0}
    options.update(settings)
    return OpenAIProvider(OpenAISettings(**options), cache=cache, sleep=lambda seconds: None)


# Location


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"PROMPTGEN_CACHE_DIR": "/data/pg", "XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"}, "/data/pg"),
        ({"XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"}, "/xdg/promptgen/responses"),
        ({"XDG_CACHE_HOME": "relative/cache", "HOME": "/home/u"}, "/home/u/.cache/promptgen/responses"),
        ({"PROMPTGEN_CACHE_DIR": "", "HOME": "/home/u"}, "/home/u/.cache/promptgen/responses"),
    ],
)
def test_default_cache_dir(environ: dict[str, str], expected: str) -> None:
    assert default_cache_dir(environ) == Path(expected)


def test_default_cache_dir_expands_user() -> None:
    assert default_cache_dir({"PROMPTGEN_CACHE_DIR": "~/pg"}) == Path("~/pg").expanduser()


def test_default_cache_opens_default_dir() -> None:
    cache = ResponseCache.default({"PROMPTGEN_CACHE_DIR": "/data/pg"})
    assert cache.directory == Path("/data/pg")


# Keys


def test_cache_key_stable() -> None:
    assert make_key() == make_key(messages=[dict(message) for message in MESSAGES])


@pytest.mark.parametrize(
    "changes",
    [
        {"base_url": "http://127.0.0.1:8001/v1"},
        {"model": "other-model"},
        {"messages": MESSAGES[:1]},
        {"messages": [MESSAGES[0], {"role": "user", "content": "Write a converter."}]},
        {"parameters": {"temperature": 0.7, "seed": None}},
        {"parameters": {"temperature": 0.0, "seed": 1}},
        {"sample_index": 1},
    ],
)
def test_cache_key_changes(changes: dict[str, Any]) -> None:
    assert make_key(**changes) != make_key()


def test_cache_key_ignores_parameter_order() -> None:
    assert make_key(parameters={"seed": None, "temperature": 0.0}) == make_key()


def test_path_for_invalid_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid cache key"):
        ResponseCache(tmp_path).path_for("../../etc/passwd")


# Entries


def test_put_then_get(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put(make_key(), REPLY)
    loaded = cache.get(make_key())
    assert loaded is not None
    assert loaded.text == REPLY.text
    assert loaded.model == REPLY.model
    assert loaded.finish_reason == "stop"
    assert loaded.prompt_tokens == 10
    assert loaded.completion_tokens == 5
    assert loaded.cached is True


def test_get_missing(tmp_path: Path) -> None:
    assert ResponseCache(tmp_path).get(make_key()) is None


@pytest.mark.parametrize("finish_reason", ["length", "content_filter"])
def test_put_skips_unfinished(tmp_path: Path, finish_reason: str) -> None:
    cache = ResponseCache(tmp_path)
    cache.put(make_key(), Reply(text="partial", model="m", finish_reason=finish_reason))
    assert cache.get(make_key()) is None
    assert list(tmp_path.rglob("*.json")) == []


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b"[1, 2]",
        b'{"text": "t"}',
        b'{"text": 3, "model": "m", "finish_reason": "stop"}',
        b'{"text": "t", "model": "m", "finish_reason": "stop", "prompt_tokens": "many"}',
        b'{"text": "t", "model": "m", "finish_reason": "stop", "completion_tokens": true}',
    ],
)
def test_corrupt_entry_ignored(tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture) -> None:
    cache = ResponseCache(tmp_path)
    path = cache.path_for(make_key())
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="promptgen.cache"):
        assert cache.get(make_key()) is None
    assert "corrupt cache entry" in caplog.text


def test_corrupt_entry_overwritten(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    path = cache.path_for(make_key())
    path.parent.mkdir(parents=True)
    path.write_text("{truncated")
    cache.put(make_key(), REPLY)
    loaded = cache.get(make_key())
    assert loaded is not None
    assert loaded.text == REPLY.text


def test_unreadable_entry_ignored(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.path_for(make_key()).mkdir(parents=True)
    assert cache.get(make_key()) is None


def test_failed_write_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING, logger="promptgen.cache"):
        ResponseCache(blocker).put(make_key(), REPLY)
    assert "could not write cache entry" in caplog.text


def test_entry_is_readable_json(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put(make_key(), REPLY)
    entry = json.loads(cache.path_for(make_key()).read_text(encoding="utf-8"))
    assert entry == {
        "text": REPLY.text,
        "model": "test-model",
        "finish_reason": "stop",
        "prompt_tokens": 10,
        "completion_tokens": 5,
    }


# With the openai provider


def test_cache_hit_sends_nothing(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(Completion.of("first"))
    cache = ResponseCache(tmp_path)
    make_provider(chat_server, cache).complete(MESSAGES)
    [reply] = make_provider(chat_server, cache).complete(MESSAGES)
    assert reply.text == "first"
    assert reply.cached is True
    assert len(chat_server.chat_requests) == 1


def test_cache_misses_on_other_settings(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(Completion.of("cold"), Completion.of("warm"))
    cache = ResponseCache(tmp_path)
    make_provider(chat_server, cache).complete(MESSAGES)
    [reply] = make_provider(chat_server, cache, temperature=0.8).complete(MESSAGES)
    assert reply.text == "warm"
    assert len(chat_server.chat_requests) == 2


def test_no_cache_bypasses(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(Completion.of("first"), Completion.of("second"))
    make_provider(chat_server, ResponseCache(tmp_path)).complete(MESSAGES)
    [reply] = make_provider(chat_server, None).complete(MESSAGES)
    assert reply.text == "second"
    assert reply.cached is False
    assert len(chat_server.chat_requests) == 2


def test_no_cache_writes_nothing(chat_server: ChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    chat_server.enqueue(Completion.of("only"))
    make_provider(chat_server, None).complete(MESSAGES)
    assert list(tmp_path.iterdir()) == []


def test_cache_fills_missing_samples(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(Completion.of("a", "b"), Completion.of("c"))
    cache = ResponseCache(tmp_path)
    make_provider(chat_server, cache).complete(MESSAGES, samples=2)
    replies = make_provider(chat_server, cache).complete(MESSAGES, samples=3)
    assert [reply.text for reply in replies] == ["a", "b", "c"]
    assert [reply.cached for reply in replies] == [True, True, False]
    assert len(chat_server.chat_requests) == 2
    assert "n" not in chat_server.chat_requests[1].body


def test_truncated_reply_not_cached(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(Completion.of("cut", finish_reason="length"), Completion.of("whole"))
    cache = ResponseCache(tmp_path)
    make_provider(chat_server, cache).complete(MESSAGES)
    [reply] = make_provider(chat_server, cache).complete(MESSAGES)
    assert reply.text == "whole"
    assert len(chat_server.chat_requests) == 2


def test_error_not_cached(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(ErrorResponse(400), Completion.of("after the error"))
    cache = ResponseCache(tmp_path)
    with pytest.raises(ProviderError):
        make_provider(chat_server, cache).complete(MESSAGES)
    assert list(tmp_path.rglob("*.json")) == []
    [reply] = make_provider(chat_server, cache).complete(MESSAGES)
    assert reply.text == "after the error"


def test_corrupt_entry_refetched(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(Completion.of("first"), Completion.of("refetched"))
    cache = ResponseCache(tmp_path)
    make_provider(chat_server, cache).complete(MESSAGES)
    [path] = list(tmp_path.rglob("*.json"))
    path.write_text("{broken")
    [reply] = make_provider(chat_server, cache).complete(MESSAGES)
    [stored] = make_provider(chat_server, cache).complete(MESSAGES)
    assert reply.text == "refetched"
    assert stored.text == "refetched"
    assert stored.cached is True
    assert len(chat_server.chat_requests) == 2
