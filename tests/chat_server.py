"""A scripted OpenAI-compatible chat server on 127.0.0.1 for tests.

The server speaks enough of the chat completions protocol for the openai SDK:
``POST /v1/chat/completions`` and ``GET /v1/models``. Each chat request takes the
next scripted response from a queue (a completion, an HTTP error or a delay) and
is recorded with its headers and JSON body, so tests can assert on what the
client sent. It runs in a thread of the test process, so a CLI started as a
subprocess can reach it through ``server.base_url``.

Use the ``chat_server`` fixture, or ``with ChatServer() as server:`` directly.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, Union

import pytest

DEFAULT_MODEL = "test-model"


@dataclass(frozen=True)
class Choice:
    """One choice of a scripted completion."""

    content: str | None
    finish_reason: str | None = "stop"


@dataclass(frozen=True)
class Completion:
    """A scripted 200 response. A ``usage`` of None leaves the usage field out."""

    choices: tuple[Choice, ...]
    model: str | None = None
    usage: tuple[int, int] | None = (11, 22)

    @classmethod
    def of(cls, *contents: str, finish_reason: str = "stop", usage: tuple[int, int] | None = (11, 22)) -> Completion:
        """Build a completion with one choice per text, all ending with ``finish_reason``."""
        return cls(tuple(Choice(text, finish_reason) for text in contents), usage=usage)


@dataclass(frozen=True)
class ErrorResponse:
    """A scripted HTTP error. A dict body is sent as JSON and a str body as plain text.

    A status of 200 with a body that is no completion tests how clients handle a broken server.
    """

    status: int
    body: dict[str, Any] | str | None = None
    retry_after: str | None = None

    def payload(self) -> dict[str, Any] | str:
        if self.body is not None:
            return self.body
        return {"error": {"message": f"scripted error {self.status}", "type": "test_error", "code": None}}


@dataclass(frozen=True)
class Delay:
    """A wait of ``seconds`` before ``then`` is sent. The wait ends early when the server stops."""

    seconds: float
    then: Completion | ErrorResponse = field(default_factory=lambda: Completion.of("delayed reply"))


Scripted = Union[Completion, ErrorResponse, Delay]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it. ``body`` is the parsed JSON, or None."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


class ChatServer:
    """A threaded HTTP server on 127.0.0.1 that plays back scripted chat responses.

    When the queue is empty, a chat request gets ``default`` if one is set, and
    otherwise a 500 error whose message states that no scripted response is left.
    """

    def __init__(self, default: Completion | None = None, models: tuple[str, ...] = (DEFAULT_MODEL,)) -> None:
        self.default = default
        self.models = models
        self._queue: deque[Scripted] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ChatServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("BoundChatHandler", (_ChatHandler,), {"chat_server": self})
        self._httpd = _LoopbackHTTPServer(("127.0.0.1", 0), handler)
        # A short poll interval makes shutdown() return quickly after each test.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="chat-server", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the chat server is not running: call start() or use it as a context manager")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def enqueue(self, *responses: Scripted) -> None:
        with self._lock:
            self._queue.extend(responses)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == "/v1/chat/completions"]

    @property
    def pending(self) -> int:
        """The number of scripted responses not yet sent."""
        with self._lock:
            return len(self._queue)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_response(self) -> Scripted | None:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return self.default

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


class _LoopbackHTTPServer(ThreadingHTTPServer):
    # A client's idle keep-alive connection would block a joining close until
    # the client goes away, so stop() does not wait for handler threads.
    block_on_close = False


class _ChatHandler(BaseHTTPRequestHandler):
    chat_server: ChatServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines would clutter pytest's captured output.
        return

    def do_GET(self) -> None:
        self._record(body=None)
        if self.path != "/v1/models":
            self._send_json(404, _error_body(f"no route GET {self.path}", "not_found"))
            return
        models = [
            {"id": model, "object": "model", "created": 0, "owned_by": "promptgen-tests"}
            for model in self.chat_server.models
        ]
        self._send_json(200, {"object": "list", "data": models})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        self._record(body=body)

        if self.path != "/v1/chat/completions":
            self._send_json(404, _error_body(f"no route POST {self.path}", "not_found"))
            return
        if not isinstance(body, dict):
            self._send_json(400, _error_body("the request body is not a JSON object", "invalid_request_error"))
            return

        response = self.chat_server._next_response()
        if isinstance(response, Delay):
            self.chat_server._wait(response.seconds)
            response = response.then
        try:
            self._send_scripted(response, body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first, which is what a timeout test wants.
            return

    def _send_scripted(self, response: Completion | ErrorResponse | None, body: dict[str, Any]) -> None:
        if response is None:
            self._send_json(500, _error_body("the test chat server has no scripted response left", "server_error"))
        elif isinstance(response, ErrorResponse):
            headers = {"Retry-After": response.retry_after} if response.retry_after is not None else {}
            payload = response.payload()
            if isinstance(payload, str):
                self._send(response.status, payload.encode("utf-8"), "text/plain; charset=utf-8", headers)
            else:
                self._send_json(response.status, payload, headers)
        else:
            self._send_json(200, _completion_body(response, body))

    def _record(self, body: Any) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.chat_server._record(RecordedRequest(self.command, self.path, headers, body))

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json", headers or {})

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _error_body(message: str, error_type: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": error_type, "code": None}}


def _completion_body(completion: Completion, request: dict[str, Any]) -> dict[str, Any]:
    choices = [
        {
            "index": index,
            "message": {"role": "assistant", "content": choice.content},
            "finish_reason": choice.finish_reason,
        }
        for index, choice in enumerate(completion.choices)
    ]
    payload: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": completion.model or request.get("model") or DEFAULT_MODEL,
        "choices": choices,
    }
    if completion.usage is not None:
        prompt_tokens, completion_tokens = completion.usage
        payload["usage"] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
    return payload


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    """A running ChatServer with an empty queue, stopped after the test."""
    with ChatServer() as server:
        yield server
