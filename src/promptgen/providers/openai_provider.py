"""Candidate replies from an OpenAI-compatible chat completions API, through the openai SDK.

Retries: the SDK client is built with ``max_retries=0`` and this module runs its
own retry loop. Connection errors, timeouts, HTTP 408, 429 and 5xx are retried up
to ``OpenAISettings.max_retries`` times with exponential backoff, or after the
server's Retry-After delay when it is at most ``RETRY_AFTER_CAP`` seconds. Owning
the loop lets tests inject the sleep, lets each retry be logged with its cause,
and lets the final error name the last status. Other HTTP errors fail at once.

A reply cut off by the token limit is returned with ``finish_reason="length"``
and is not cached, so the pipeline can count it as a failed attempt.

This module never logs, caches or reports the API key. ``OpenAISettings`` leaves
it out of its repr, and cache keys do not contain it. Error text from the server
has the key replaced by ``***`` before it goes into a message.
"""

from __future__ import annotations

import email.utils
import logging
import math
import time
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import openai
from openai.types.chat import ChatCompletion

from promptgen.cache import ResponseCache, cache_key
from promptgen.errors import ProviderError, SettingsError
from promptgen.providers.base import Message, Reply, public_url

logger = logging.getLogger(__name__)

# The openai SDK's own default, written out so that the SDK never falls back to
# OPENAI_BASE_URL from the process environment behind the caller's back.
DEFAULT_BASE_URL = "https://api.openai.com/v1"

# Local servers such as llama.cpp, vLLM and Ollama accept any key by default.
# Given no key, the SDK would read OPENAI_API_KEY from the process environment
# or raise OpenAIError, so a keyless setup sends this text instead.
KEYLESS_PLACEHOLDER = "not-needed"

BACKOFF_INITIAL = 1.0  # seconds before the first retry; doubles for each later one
BACKOFF_MAX = 30.0
RETRY_AFTER_CAP = 60.0  # a longer Retry-After ends the run instead of stalling it

_SERVER_TEXT_LIMIT = 200  # characters of server error text quoted in a message


@dataclass(frozen=True)
class OpenAISettings:
    """Connection and sampling settings. ``timeout`` is in seconds per HTTP request."""

    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    temperature: float = 0.0
    seed: int | None = None
    timeout: float = 120.0
    max_retries: int = 3
    # True when OPENAI_API_KEY was set but not used, because --base-url named another server.
    key_withheld: bool = False

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise SettingsError(f"invalid timeout {self.timeout}: give a number of seconds above 0")
        if self.max_retries < 0:
            raise SettingsError(f"invalid max_retries {self.max_retries}: give 0 or more")

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides: Any) -> OpenAISettings:
        """Read OPENAI_API_KEY, OPENAI_BASE_URL and PROMPTGEN_MODEL. An override that is not None wins."""
        values: dict[str, Any] = {
            "base_url": environ.get("OPENAI_BASE_URL") or None,
            "model": environ.get("PROMPTGEN_MODEL") or None,
            "api_key": environ.get("OPENAI_API_KEY") or None,
        }
        known = {settings_field.name for settings_field in fields(cls)}
        for name, value in overrides.items():
            if name not in known:
                raise TypeError(f"unknown OpenAISettings field {name!r}: choose one of {', '.join(sorted(known))}")
            if value is not None:
                values[name] = value
        # The key in the environment belongs to OpenAI, or to the OPENAI_BASE_URL set beside it.
        # A --base-url that points elsewhere (a local test server, say) never receives it.
        environment_url = (environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        override_url = overrides.get("base_url")
        if (
            override_url is not None
            and overrides.get("api_key") is None
            and values["api_key"] is not None
            and override_url.rstrip("/") != environment_url
        ):
            values["api_key"] = None
            values["key_withheld"] = True
        return cls(**values)

    def is_configured(self) -> bool:
        """Return True when a base URL or an API key is set, so ``--provider auto`` picks this provider."""
        return bool(self.base_url) or bool(self.api_key)


class OpenAIProvider:
    """A Provider backed by ``client.chat.completions.create``."""

    name = "openai"

    def __init__(
        self,
        settings: OpenAISettings,
        cache: ResponseCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.api_key and not settings.base_url:
            raise ProviderError(
                "no API key and no base URL for the openai provider: "
                "set OPENAI_API_KEY, or pass --base-url for a local server"
            )
        if not settings.model:
            raise ProviderError("no model for the openai provider: set PROMPTGEN_MODEL or pass --model")
        base_url = settings.base_url or DEFAULT_BASE_URL
        _check_base_url(base_url)

        self.settings = settings
        self.model: str = settings.model
        self.base_url = base_url.rstrip("/")
        # Messages and logs show the URL without any user:password@ part.
        self.public_url = public_url(self.base_url)
        self.cache = cache
        self._sleep = sleep
        self._client = openai.OpenAI(
            api_key=settings.api_key or KEYLESS_PLACEHOLDER,
            base_url=self.base_url,
            timeout=settings.timeout,
            max_retries=0,
        )

    def complete(self, messages: list[Message], *, samples: int = 1) -> list[Reply]:
        """Return ``samples`` replies, taking each from the cache when it is there."""
        if samples < 1:
            raise ProviderError(f"invalid number of samples {samples}: give 1 or more")

        keys = [self._cache_key(messages, index) for index in range(samples)]
        replies: dict[int, Reply] = {}
        if self.cache is not None:
            for index, key in enumerate(keys):
                cached = self.cache.get(key)
                if cached is not None:
                    replies[index] = cached

        missing = [index for index in range(samples) if index not in replies]
        batch_size = len(missing)
        while missing:
            fresh = self._request(messages, batch_size)
            for index, reply in zip(missing, fresh):
                replies[index] = reply
                if self.cache is not None:
                    self.cache.put(keys[index], reply)
            missing = missing[len(fresh):]
            # Many OpenAI-compatible servers ignore n and send one choice, so
            # the rest are collected one request at a time.
            batch_size = 1

        return [replies[index] for index in range(samples)]

    def _cache_key(self, messages: list[Message], sample_index: int) -> str:
        return cache_key(
            base_url=self.base_url,
            model=self.model,
            messages=messages,
            parameters={"temperature": self.settings.temperature, "seed": self.settings.seed},
            sample_index=sample_index,
        )

    def _request(self, messages: list[Message], n: int) -> list[Reply]:
        completion = self._create_with_retries(messages, n)
        if not isinstance(completion, ChatCompletion) or not completion.choices:
            raise ProviderError(
                f"the server at {self.public_url} sent no chat completion choices: "
                "check that --base-url points at an OpenAI-compatible API, for example http://127.0.0.1:8000/v1"
            )

        usage = completion.usage
        replies = []
        for position, choice in enumerate(completion.choices):
            message = getattr(choice, "message", None)
            # The usage covers the whole request, so only its first reply carries
            # it and a sum over replies stays right.
            counts_usage = position == 0 and usage is not None
            replies.append(
                Reply(
                    text=(message.content if message is not None else None) or "",
                    model=completion.model or self.model,
                    finish_reason=choice.finish_reason or "unknown",
                    prompt_tokens=usage.prompt_tokens if counts_usage else None,
                    completion_tokens=usage.completion_tokens if counts_usage else None,
                )
            )
        return replies

    def _create_with_retries(self, messages: list[Message], n: int) -> object:
        arguments: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.settings.temperature,
        }
        if self.settings.seed is not None:
            arguments["seed"] = self.settings.seed
        if n > 1:
            arguments["n"] = n

        attempt = 1
        while True:
            try:
                return self._client.chat.completions.create(**arguments)
            except openai.APIStatusError as error:
                if not _is_retryable(error.status_code):
                    raise ProviderError(self._status_message(error)) from None
                last_error: openai.APIError = error
            except openai.APIConnectionError as error:
                # APITimeoutError is a subclass, so timeouts land here too.
                last_error = error

            if attempt > self.settings.max_retries:
                raise ProviderError(self._exhausted_message(last_error, attempt)) from None

            retry_after = None
            if isinstance(last_error, openai.APIStatusError):
                retry_after = _parse_retry_after(last_error.response.headers.get("retry-after"))
            if retry_after is not None and retry_after > RETRY_AFTER_CAP:
                raise ProviderError(
                    f"the server at {self.public_url} asked to wait {retry_after:g} s before retrying "
                    f"({self._describe(last_error)}), longer than the {RETRY_AFTER_CAP:g} s this tool waits: "
                    "run again later"
                ) from None

            delay = retry_after if retry_after is not None else min(BACKOFF_INITIAL * 2 ** (attempt - 1), BACKOFF_MAX)
            logger.warning(
                "request to %s failed (%s); retry %d of %d in %.1f s",
                self.public_url,
                self._describe(last_error),
                attempt,
                self.settings.max_retries,
                delay,
            )
            self._sleep(delay)
            attempt += 1

    def _describe(self, error: openai.APIError) -> str:
        if isinstance(error, openai.APITimeoutError):
            return f"no reply within {self.settings.timeout:g} s"
        if isinstance(error, openai.APIStatusError):
            return f"HTTP {error.status_code}"
        return f"connection failed: {error.__cause__ or error}"

    def _status_message(self, error: openai.APIStatusError) -> str:
        status = error.status_code
        detail = self._server_text(error)
        url = self.public_url
        if status == 401 and self.settings.key_withheld:
            return (
                f"the server at {url} requires an API key (401), and promptgen sends OPENAI_API_KEY only to "
                f"OPENAI_BASE_URL: set OPENAI_BASE_URL={url} instead of passing --base-url"
            )
        if status == 401:
            return f"the server at {url} rejected the API key (401): check OPENAI_API_KEY"
        if status == 403:
            return (
                f"the server at {url} denied access to model {self.model!r} (403, {detail!r}): "
                "check that the key in OPENAI_API_KEY may use this model"
            )
        if status == 404 and _names_model(error, detail):
            return f"model {self.model!r} was not found at {url}: check --model or PROMPTGEN_MODEL"
        if status == 404:
            return (
                f"the server at {url} has no chat completions endpoint (404, {detail!r}): "
                "check --base-url, which usually ends in /v1"
            )
        if status == 400:
            return (
                f"the server at {url} rejected the request as invalid (400, {detail!r}): "
                "check --model and that the prompt fits the model's context length"
            )
        if status == 422:
            return (
                f"the server at {url} could not process the request (422, {detail!r}): "
                "check --model and that the server supports the temperature and seed parameters"
            )
        return f"the server at {url} rejected the request (HTTP {status}, {detail!r}): check --base-url and --model"

    def _exhausted_message(self, error: openai.APIError, attempts: int) -> str:
        url = self.public_url
        if isinstance(error, openai.APITimeoutError):
            return (
                f"the server at {url} did not reply within {self.settings.timeout:g} s in {attempts} attempts: "
                "try again later, or raise the request timeout"
            )
        if isinstance(error, openai.APIStatusError):
            status = error.status_code
            hint = "wait and run again, or check the quota of the API key" if status == 429 else "try again later"
            return (
                f"the server at {url} failed {attempts} attempts, the last with HTTP {status} "
                f"({self._server_text(error)!r}): {hint}"
            )
        return (
            f"could not connect to {url} in {attempts} attempts ({error.__cause__ or error}): "
            "check --base-url and that the server is running"
        )

    def _server_text(self, error: openai.APIStatusError) -> str:
        body = error.body
        if isinstance(body, dict):
            text = str(body.get("message") or body.get("detail") or body)
        elif body is None:
            text = ""
        else:
            text = str(body)
        text = " ".join(text.split())
        # Some servers quote the key they rejected.
        if self.settings.api_key:
            text = text.replace(self.settings.api_key, "***")
        if len(text) > _SERVER_TEXT_LIMIT:
            text = text[: _SERVER_TEXT_LIMIT - 3] + "..."
        return text


def _check_base_url(base_url: str) -> None:
    try:
        parts = urlsplit(base_url)
        # Reading the port raises ValueError when it is not a number from 0 to 65535.
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:
        valid = False
    if not valid:
        raise ProviderError(
            f"invalid base URL {public_url(base_url)!r}: give a full http:// or https:// URL, "
            "for example --base-url http://127.0.0.1:8000/v1"
        )


def _is_retryable(status: int) -> bool:
    return status in (408, 429) or status >= 500


def _names_model(error: openai.APIStatusError, detail: str) -> bool:
    # OpenAI sends the code model_not_found, but vLLM, Ollama and others only
    # name the model in the message. A 404 that does not mention a model is a wrong path.
    body = error.body
    code = body.get("code") if isinstance(body, dict) else None
    return code == "model_not_found" or "model" in detail.lower()


def _parse_retry_after(value: str | None) -> float | None:
    """Parse a Retry-After value, given in seconds or as an HTTP date, into seconds from now."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        # An infinite delay stays infinite, so the caller stops retrying.
        return None if math.isnan(seconds) else max(seconds, 0.0)

    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max((moment - datetime.now(timezone.utc)).total_seconds(), 0.0)
