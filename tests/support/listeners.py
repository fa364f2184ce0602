"""A loopback HTTP listener that records every connection and request it gets.

SSRF tests point attacker-chosen URLs at one of these: whatever the gateway
refuses, the listener must have seen nothing, not even a TCP connection.
It is also the "allowed" upstream that answers with a redirect.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]


Responder = Callable[[str, str], Reply]

MODELS = Reply(200, orjson.dumps({"object": "list", "data": [{"id": "internal-secret-model"}]}))
COMPLETION = Reply(
    200,
    orjson.dumps(
        {
            "id": "chatcmpl-internal",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "internal service answer"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    ),
)


def openai_like(method: str, path: str) -> Reply:
    """Answer like an OpenAI API, so a request that got through would look like success."""
    return MODELS if method == "GET" else COMPLETION


def redirecting(location: str, status: int = 307, *, models_first: bool = False) -> Responder:
    """Redirect every request to ``location`` (optionally answering the model list itself,
    so a key can be saved before the chat call is redirected)."""

    def respond(method: str, path: str) -> Reply:
        if models_first and method == "GET":
            return Reply(200, orjson.dumps({"object": "list", "data": [{"id": "gpt-4o-mini"}]}))
        body = b"<a href='" + location.encode() + b"'>moved</a> redirector-body-canary"
        return Reply(status, body, {"Location": location + path})

    return respond


class Listener(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.connections: list[tuple[str, int]] = []
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def seen_anything(self) -> bool:
        with self._lock:
            return bool(self.connections or self.requests)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self.connections.append(client_address)
        super().process_request(request, client_address)

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.requests.append(seen)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so connections can be counted
    server: Listener

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.record(Seen(self.command, self.path, dict(self.headers.items())))
        reply = self.server.responder(self.command, self.path)
        self.send_response(reply.status)
        for name, value in {"Content-Type": "application/json", **reply.headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the records are the log."""


@contextmanager
def listening(responder: Responder = openai_like) -> Iterator[Listener]:
    server = Listener(responder)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
