from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from chat_server import ChatServer, Choice, Completion, Delay, ErrorResponse, chat_server  # noqa: F401

from promptgen.cache import ResponseCache
from promptgen.errors import ProviderError, SettingsError
from promptgen.providers.base import Message
from promptgen.providers.openai_provider import (
    KEYLESS_PLACEHOLDER,
    OpenAIProvider,
    OpenAISettings,
    _parse_retry_after,
)

SECRET = "sk-test-secret-4f9a2c"
MODEL = "test-model"
MESSAGES: list[Message] = [
    {"role": "system", "content": "You write Python scripts."},
    {"role": "user", "content": "Write a converter for sheet DrugQA."},
]


def make_provider(
    server: ChatServer,
    *,
    api_key: str | None = SECRET,
    sleeps: list[float] | None = None,
    cache: ResponseCache | None = None,
    **settings: object,
) -> OpenAIProvider:
    options: dict[str, object] = {"base_url": server.base_url, "model": MODEL, "api_key": api_key, "timeout": 5.0}
    options.update(settings)
    recorded = sleeps if sleeps is not None else []
    return OpenAIProvider(OpenAISettings(**options), cache=cache, sleep=recorded.append)  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Settings


def test_from_env_reads_variables() -> None:
    environ = {"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "PROMPTGEN_MODEL": "m1"}
    settings = OpenAISettings.from_env(environ)
    assert settings.api_key == SECRET
    assert settings.base_url == "http://127.0.0.1:9/v1"
    assert settings.model == "m1"


def test_from_env_overrides_win() -> None:
    environ = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "PROMPTGEN_MODEL": "m1"}
    settings = OpenAISettings.from_env(environ, model="m2", base_url=None, seed=7)
    assert settings.model == "m2"
    assert settings.base_url == "http://127.0.0.1:9/v1"
    assert settings.seed == 7


def test_from_env_empty_values_unset() -> None:
    settings = OpenAISettings.from_env({"OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "PROMPTGEN_MODEL": ""})
    assert settings.api_key is None
    assert settings.base_url is None
    assert settings.model is None


def test_from_env_unknown_override() -> None:
    with pytest.raises(TypeError, match="modle"):
        OpenAISettings.from_env({}, modle="m")


@pytest.mark.parametrize(
    ("base_url", "api_key", "expected"),
    [
        (None, None, False),
        ("http://127.0.0.1:8000/v1", None, True),
        (None, SECRET, True),
        ("", "", False),
    ],
)
def test_is_configured(base_url: str | None, api_key: str | None, expected: bool) -> None:
    assert OpenAISettings(base_url=base_url, api_key=api_key).is_configured() is expected


@pytest.mark.parametrize(("field", "value"), [("timeout", 0.0), ("timeout", -1.0), ("max_retries", -1)])
def test_settings_invalid_value(field: str, value: float) -> None:
    with pytest.raises(SettingsError, match=field):
        OpenAISettings(**{field: value})  # type: ignore[arg-type]


def test_settings_repr_hides_key() -> None:
    assert SECRET not in repr(OpenAISettings(api_key=SECRET, model=MODEL))


def test_provider_without_key_or_url() -> None:
    with pytest.raises(ProviderError) as caught:
        OpenAIProvider(OpenAISettings(model=MODEL))
    assert "OPENAI_API_KEY" in str(caught.value)
    assert "--base-url" in str(caught.value)


def test_provider_without_model() -> None:
    with pytest.raises(ProviderError) as caught:
        OpenAIProvider(OpenAISettings(base_url="http://127.0.0.1:9/v1"))
    assert "PROMPTGEN_MODEL" in str(caught.value)
    assert "--model" in str(caught.value)


@pytest.mark.parametrize(
    "base_url", ["127.0.0.1:8000/v1", "ftp://127.0.0.1/v1", "http://", "http://127.0.0.1:99999/v1", "http://[::1/v1"]
)
def test_provider_invalid_base_url(base_url: str) -> None:
    with pytest.raises(ProviderError, match="invalid base URL"):
        OpenAIProvider(OpenAISettings(base_url=base_url, model=MODEL))


# Requests and replies


def test_complete_returns_reply(chat_server: ChatServer) -> None:
    chat_server.enqueue(Completion.of("```python\nprint(1)\n```", usage=(120, 45)))
    [reply] = make_provider(chat_server).complete(MESSAGES)
    assert reply.text == "```python\nprint(1)\n```"
    assert reply.model == MODEL
    assert reply.finish_reason == "stop"
    assert reply.prompt_tokens == 120
    assert reply.completion_tokens == 45
    assert reply.cached is False


def test_complete_sends_request(chat_server: ChatServer) -> None:
    chat_server.enqueue(Completion.of("ok"))
    make_provider(chat_server, temperature=0.2, seed=11).complete(MESSAGES)
    [request] = chat_server.chat_requests
    assert request.body["model"] == MODEL
    assert request.body["messages"] == MESSAGES
    assert request.body["temperature"] == 0.2
    assert request.body["seed"] == 11
    assert "n" not in request.body
    assert request.authorization == f"Bearer {SECRET}"


def test_complete_omits_unset_seed(chat_server: ChatServer) -> None:
    chat_server.enqueue(Completion.of("ok"))
    make_provider(chat_server).complete(MESSAGES)
    assert "seed" not in chat_server.chat_requests[0].body


def test_keyless_server_gets_placeholder(chat_server: ChatServer) -> None:
    chat_server.enqueue(Completion.of("ok"))
    make_provider(chat_server, api_key=None).complete(MESSAGES)
    assert chat_server.chat_requests[0].authorization == f"Bearer {KEYLESS_PLACEHOLDER}"


def test_truncated_reply_surfaces(chat_server: ChatServer) -> None:
    chat_server.enqueue(Completion.of("```python\nimport openpyxl\nwb = ", finish_reason="length"))
    [reply] = make_provider(chat_server).complete(MESSAGES)
    assert reply.finish_reason == "length"
    assert reply.text.endswith("wb = ")


def test_missing_usage_leaves_tokens_unset(chat_server: ChatServer) -> None:
    chat_server.enqueue(Completion.of("ok", usage=None))
    [reply] = make_provider(chat_server).complete(MESSAGES)
    assert reply.prompt_tokens is None
    assert reply.completion_tokens is None


def test_null_content_and_finish_reason(chat_server: ChatServer) -> None:
    chat_server.enqueue(Completion(choices=(Choice(None, None),)))
    [reply] = make_provider(chat_server).complete(MESSAGES)
    assert reply.text == ""
    assert reply.finish_reason == "unknown"


@pytest.mark.parametrize("body", ["<html>hello</html>", {"status": "ok"}])
def test_non_completion_reply(chat_server: ChatServer, body: object) -> None:
    chat_server.enqueue(ErrorResponse(200, body))  # type: ignore[arg-type]
    with pytest.raises(ProviderError, match="no chat completion choices.*--base-url"):
        make_provider(chat_server).complete(MESSAGES)


def test_samples_below_one(chat_server: ChatServer) -> None:
    with pytest.raises(ProviderError, match="samples 0"):
        make_provider(chat_server).complete(MESSAGES, samples=0)
    assert chat_server.chat_requests == []


# Samples through n


def test_samples_use_n(chat_server: ChatServer) -> None:
    chat_server.enqueue(Completion.of("a", "b", "c", usage=(100, 90)))
    replies = make_provider(chat_server).complete(MESSAGES, samples=3)
    assert [reply.text for reply in replies] == ["a", "b", "c"]
    assert len(chat_server.chat_requests) == 1
    assert chat_server.chat_requests[0].body["n"] == 3


def test_samples_usage_on_first_reply(chat_server: ChatServer) -> None:
    chat_server.enqueue(Completion.of("a", "b", usage=(100, 90)))
    first, second = make_provider(chat_server).complete(MESSAGES, samples=2)
    assert (first.prompt_tokens, first.completion_tokens) == (100, 90)
    assert (second.prompt_tokens, second.completion_tokens) == (None, None)


def test_samples_when_server_ignores_n(chat_server: ChatServer) -> None:
    chat_server.enqueue(Completion.of("a"), Completion.of("b"), Completion.of("c"))
    replies = make_provider(chat_server).complete(MESSAGES, samples=3)
    bodies = [request.body for request in chat_server.chat_requests]
    assert [reply.text for reply in replies] == ["a", "b", "c"]
    assert len(bodies) == 3
    assert bodies[0]["n"] == 3
    assert "n" not in bodies[1]
    assert "n" not in bodies[2]


def test_samples_when_server_sends_fewer(chat_server: ChatServer) -> None:
    chat_server.enqueue(Completion.of("a", "b"), Completion.of("c"), Completion.of("d"))
    replies = make_provider(chat_server).complete(MESSAGES, samples=4)
    assert [reply.text for reply in replies] == ["a", "b", "c", "d"]
    assert len(chat_server.chat_requests) == 3


# Retries


def test_rate_limit_then_success(chat_server: ChatServer) -> None:
    sleeps: list[float] = []
    chat_server.enqueue(ErrorResponse(429), Completion.of("ok"))
    [reply] = make_provider(chat_server, sleeps=sleeps).complete(MESSAGES)
    assert reply.text == "ok"
    assert len(chat_server.chat_requests) == 2
    assert sleeps == [1.0]


def test_retry_after_honoured(chat_server: ChatServer) -> None:
    sleeps: list[float] = []
    chat_server.enqueue(ErrorResponse(429, retry_after="7"), Completion.of("ok"))
    make_provider(chat_server, sleeps=sleeps).complete(MESSAGES)
    assert sleeps == [7.0]


def test_retry_after_over_cap_stops(chat_server: ChatServer) -> None:
    sleeps: list[float] = []
    chat_server.enqueue(ErrorResponse(429, retry_after="3600"), Completion.of("ok"))
    with pytest.raises(ProviderError) as caught:
        make_provider(chat_server, sleeps=sleeps).complete(MESSAGES)
    assert "3600 s" in str(caught.value)
    assert "run again later" in str(caught.value)
    assert len(chat_server.chat_requests) == 1
    assert chat_server.pending == 1
    assert sleeps == []


def test_server_errors_exhaust_retries(chat_server: ChatServer) -> None:
    sleeps: list[float] = []
    chat_server.enqueue(*[ErrorResponse(500)] * 3, ErrorResponse(503, {"error": {"message": "overloaded"}}))
    with pytest.raises(ProviderError) as caught:
        make_provider(chat_server, sleeps=sleeps, max_retries=3).complete(MESSAGES)
    message = str(caught.value)
    assert len(chat_server.chat_requests) == 4
    assert sleeps == [1.0, 2.0, 4.0]
    assert "4 attempts" in message
    assert "HTTP 503" in message
    assert "overloaded" in message
    assert "\n" not in message


def test_backoff_capped(chat_server: ChatServer) -> None:
    sleeps: list[float] = []
    chat_server.enqueue(*[ErrorResponse(502)] * 8)
    with pytest.raises(ProviderError):
        make_provider(chat_server, sleeps=sleeps, max_retries=7).complete(MESSAGES)
    assert sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_request_timeout_retried(chat_server: ChatServer) -> None:
    chat_server.enqueue(Delay(10), Completion.of("ok"))
    [reply] = make_provider(chat_server, timeout=0.3, max_retries=1).complete(MESSAGES)
    assert reply.text == "ok"
    assert len(chat_server.chat_requests) == 2


def test_request_timeout_exhausted(chat_server: ChatServer) -> None:
    chat_server.enqueue(Delay(10), Delay(10))
    with pytest.raises(ProviderError) as caught:
        make_provider(chat_server, timeout=0.3, max_retries=1).complete(MESSAGES)
    assert "did not reply within 0.3 s in 2 attempts" in str(caught.value)


def test_connection_refused_exhausted() -> None:
    sleeps: list[float] = []
    settings = OpenAISettings(base_url=f"http://127.0.0.1:{closed_port()}/v1", model=MODEL, max_retries=2)
    with pytest.raises(ProviderError) as caught:
        OpenAIProvider(settings, sleep=sleeps.append).complete(MESSAGES)
    assert "could not connect" in str(caught.value)
    assert "3 attempts" in str(caught.value)
    assert sleeps == [1.0, 2.0]


def test_retries_logged(chat_server: ChatServer, caplog: pytest.LogCaptureFixture) -> None:
    chat_server.enqueue(ErrorResponse(500), Completion.of("ok"))
    with caplog.at_level(logging.WARNING, logger="promptgen.providers.openai_provider"):
        make_provider(chat_server).complete(MESSAGES)
    assert "HTTP 500" in caplog.text
    assert "retry 1 of 3" in caplog.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0.5", 0.5), ("-4", 0.0), ("soon", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_parse_retry_after(value: str, expected: float | None) -> None:
    assert _parse_retry_after(value) == expected


def test_parse_retry_after_future_date() -> None:
    parsed = _parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT")
    assert parsed is not None
    assert parsed > 60.0


# Errors that are not retried


def test_unauthorized_not_retried(chat_server: ChatServer) -> None:
    sleeps: list[float] = []
    chat_server.enqueue(ErrorResponse(401), Completion.of("ok"))
    with pytest.raises(ProviderError) as caught:
        make_provider(chat_server, sleeps=sleeps).complete(MESSAGES)
    assert str(caught.value) == f"the server at {chat_server.base_url} rejected the API key (401): check OPENAI_API_KEY"
    assert len(chat_server.chat_requests) == 1
    assert sleeps == []


def test_unknown_model(chat_server: ChatServer) -> None:
    body = {"error": {"message": "The model `nope` does not exist", "code": "model_not_found"}}
    chat_server.enqueue(ErrorResponse(404, body))
    with pytest.raises(ProviderError) as caught:
        make_provider(chat_server, model="nope").complete(MESSAGES)
    assert str(caught.value) == (
        f"model 'nope' was not found at {chat_server.base_url}: check --model or PROMPTGEN_MODEL"
    )
    assert len(chat_server.chat_requests) == 1


@pytest.mark.parametrize("body", ["Not Found", {"detail": "Not Found"}])
def test_wrong_path_names_base_url(chat_server: ChatServer, body: object) -> None:
    chat_server.enqueue(ErrorResponse(404, body))  # type: ignore[arg-type]
    with pytest.raises(ProviderError, match="check --base-url, which usually ends in /v1"):
        make_provider(chat_server).complete(MESSAGES)


@pytest.mark.parametrize(
    ("status", "fix"),
    [
        (400, "check --model and that the prompt fits the model's context length"),
        (403, "check that the key in OPENAI_API_KEY may use this model"),
        (409, "check --base-url and --model"),
        (422, "check --model and that the server supports the temperature and seed parameters"),
    ],
)
def test_client_error_not_retried(chat_server: ChatServer, status: int, fix: str) -> None:
    chat_server.enqueue(ErrorResponse(status, {"error": {"message": "context too long"}}), Completion.of("ok"))
    with pytest.raises(ProviderError) as caught:
        make_provider(chat_server).complete(MESSAGES)
    assert str(caught.value).endswith(fix)
    assert "context too long" in str(caught.value)
    assert len(chat_server.chat_requests) == 1


def test_long_server_text_shortened(chat_server: ChatServer) -> None:
    chat_server.enqueue(ErrorResponse(400, {"error": {"message": "x" * 5000}}))
    with pytest.raises(ProviderError) as caught:
        make_provider(chat_server).complete(MESSAGES)
    assert len(str(caught.value)) < 400


# The API key stays secret


def test_error_message_scrubs_echoed_key(chat_server: ChatServer) -> None:
    body = {"error": {"message": f"Incorrect API key provided: {SECRET}", "code": "invalid_api_key"}}
    chat_server.enqueue(ErrorResponse(400, body))
    with pytest.raises(ProviderError) as caught:
        make_provider(chat_server).complete(MESSAGES)
    assert "Incorrect API key provided: ***" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_exhausted_message_scrubs_echoed_key(chat_server: ChatServer) -> None:
    chat_server.enqueue(ErrorResponse(503, {"error": {"message": f"down for key {SECRET}"}}))
    with pytest.raises(ProviderError) as caught:
        make_provider(chat_server, max_retries=0).complete(MESSAGES)
    assert SECRET not in str(caught.value)


def test_key_absent_from_logs(chat_server: ChatServer, caplog: pytest.LogCaptureFixture) -> None:
    chat_server.enqueue(ErrorResponse(500, {"error": {"message": f"key {SECRET}"}}), Completion.of("ok"))
    with caplog.at_level(logging.DEBUG):
        make_provider(chat_server).complete(MESSAGES)
    assert SECRET not in caplog.text


def test_key_absent_from_subprocess_output(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(Completion.of("first reply"), ErrorResponse(401))
    script = textwrap.dedent(
        """
        import logging, os, sys
        from pathlib import Path
        from promptgen.cache import ResponseCache
        from promptgen.errors import ProviderError
        from promptgen.providers.openai_provider import OpenAIProvider, OpenAISettings

        logging.basicConfig(level=logging.DEBUG)
        settings = OpenAISettings.from_env(os.environ, base_url=sys.argv[1])
        print(repr(settings))
        provider = OpenAIProvider(settings, cache=ResponseCache(Path(sys.argv[2])), sleep=lambda seconds: None)
        print(provider.complete([{"role": "user", "content": "one"}])[0].text)
        try:
            provider.complete([{"role": "user", "content": "two"}])
        except ProviderError as error:
            print(error, file=sys.stderr)
            sys.exit(error.exit_code)
        """
    )
    # OPENAI_BASE_URL names the same server, so the key is really sent there.
    environ = {
        "PATH": "/usr/bin:/bin",
        "OPENAI_API_KEY": SECRET,
        "OPENAI_BASE_URL": chat_server.base_url,
        "PROMPTGEN_MODEL": MODEL,
    }
    cache_dir = tmp_path / "cache"
    result = subprocess.run(
        [sys.executable, "-c", script, chat_server.base_url, str(cache_dir)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
    )
    cache_text = "".join(path.read_text() for path in cache_dir.rglob("*.json"))
    assert result.returncode == 1
    assert "first reply" in result.stdout
    assert "rejected the API key (401)" in result.stderr
    assert chat_server.chat_requests[1].authorization == f"Bearer {SECRET}"
    assert SECRET not in result.stdout
    assert SECRET not in result.stderr
    assert "first reply" in cache_text
    assert SECRET not in cache_text


def test_messages_hide_url_password(chat_server: ChatServer) -> None:
    base_url = chat_server.base_url.replace("http://", "http://user:pw-secret@")
    chat_server.enqueue(ErrorResponse(503))
    with pytest.raises(ProviderError) as caught:
        make_provider(chat_server, base_url=base_url, max_retries=0).complete(MESSAGES)
    assert "pw-secret" not in str(caught.value)
    assert chat_server.base_url in str(caught.value)


def test_invalid_base_url_hides_password() -> None:
    with pytest.raises(ProviderError) as caught:
        OpenAIProvider(OpenAISettings(base_url="http://user:pw-secret@host:99999/v1", model=MODEL))
    assert "pw-secret" not in str(caught.value)
    assert "http://host:99999/v1" in str(caught.value)


def test_cache_files_exclude_key(chat_server: ChatServer, tmp_path: Path) -> None:
    chat_server.enqueue(Completion.of("a", "b"))
    make_provider(chat_server, cache=ResponseCache(tmp_path)).complete(MESSAGES, samples=2)
    files = list(tmp_path.rglob("*.json"))
    assert len(files) == 2
    for path in files:
        assert SECRET not in path.read_text()
        assert SECRET not in path.name
        assert json.loads(path.read_text())["text"] in ("a", "b")


def test_env_key_withheld_from_other_base_url():
    settings = OpenAISettings.from_env(
        {"OPENAI_API_KEY": "sk-secret"}, base_url="http://127.0.0.1:9/v1", model="m"
    )
    assert settings.api_key is None
    assert settings.key_withheld is True


def test_env_key_sent_to_env_base_url():
    settings = OpenAISettings.from_env(
        {"OPENAI_API_KEY": "sk-secret", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
        base_url="http://127.0.0.1:9/v1/",
        model="m",
    )
    assert settings.api_key == "sk-secret"
    assert settings.key_withheld is False


def test_env_key_without_base_url_kept():
    settings = OpenAISettings.from_env({"OPENAI_API_KEY": "sk-secret"}, model="m")
    assert settings.api_key == "sk-secret"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://user:pw@127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("https://example.invalid/v1?api-key=secret#part", "https://example.invalid/v1"),
        ("http://u:p@[::1]:8000/v1", "http://[::1]:8000/v1"),
        ("http://u:p@[::1/v1", "http://[::1/v1"),
    ],
)
def test_public_url_drops_credentials(url, expected):
    from promptgen.providers.base import public_url

    assert public_url(url) == expected
