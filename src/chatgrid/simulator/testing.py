"""Helpers for tests that need a simulator: in-process calls and a real server.

``InProcessClient`` drives the ASGI app directly (no sockets, so it is fast
enough for property tests) and mimics what uvicorn gives the app: a bound
``send`` whose object has a ``transport`` the app can close, and a
``receive`` that reports the client going away. ``RunningSimulator`` serves a
fresh app with uvicorn in a background thread on a free port, for tests that
need real HTTP (official SDKs, gateways under test).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import orjson
import uvicorn

from chatgrid.simulator.app import SimulatorApp, create_simulator_app
from chatgrid.simulator.wire import Message

#: A key the simulator accepts (any ``sk-`` key of 8+ more characters does).
TEST_KEY = "sk-test-simulator-0001"


def bearer(key: str = TEST_KEY) -> dict[str, str]:
    """OpenAI-style auth headers for ``key``."""
    return {"Authorization": f"Bearer {key}"}


class AsgiResponse:
    """What the client received; ``aborted`` when the app closed the connection."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.complete = False
        self.aborted = False

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def json(self) -> Any:
        return orjson.loads(self.body)

    def events(self) -> list[str]:
        """The ``data:`` payloads of an SSE body, in order."""
        blocks = self.body.decode().split("\n\n")
        return [block.removeprefix("data: ") for block in blocks if block.startswith("data: ")]


class _Transport:
    def __init__(self, exchange: _Exchange) -> None:
        self._exchange = exchange

    def close(self) -> None:
        self._exchange.response.aborted = True
        self._exchange.gone.set()


class _Exchange:
    """One request's ASGI channels, shaped like uvicorn's request cycle."""

    def __init__(self, body: bytes, disconnect_after: int | None) -> None:
        self.transport = _Transport(self)
        self.response = AsgiResponse()
        self.gone = asyncio.Event()
        self._body: bytes | None = body
        self._disconnect_after = disconnect_after

    async def receive(self) -> Message:
        if self._body is not None:
            body, self._body = self._body, None
            return {"type": "http.request", "body": body, "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.gone.is_set():
            return
        response = self.response
        if message["type"] == "http.response.start":
            response.status = message["status"]
            for name, value in message.get("headers", []):
                response.headers[name.decode("latin-1").lower()] = value.decode("latin-1")
            return
        response.chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            response.complete = True
            self.gone.set()
        elif self._disconnect_after is not None and len(response.chunks) >= self._disconnect_after:
            self.gone.set()


class InProcessClient:
    """Calls a ``SimulatorApp`` without a server; each call runs its own event loop."""

    def __init__(self, app: SimulatorApp | None = None) -> None:
        self.app = app if app is not None else create_simulator_app()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        query: str = "",
        disconnect_after: int | None = None,
    ) -> AsgiResponse:
        """Send one request; ``disconnect_after=K`` hangs up after K body messages."""
        return asyncio.run(
            self.arequest(
                method,
                path,
                json=json,
                content=content,
                headers=headers,
                query=query,
                disconnect_after=disconnect_after,
            )
        )

    async def arequest(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        query: str = "",
        disconnect_after: int | None = None,
    ) -> AsgiResponse:
        body = content if content is not None else b""
        if json is not None:
            body = orjson.dumps(json)
        raw_headers = [(b"host", b"simulator.test")]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if body:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("simulator.test", 80),
        }
        exchange = _Exchange(body, disconnect_after)
        await self.app(scope, exchange.receive, exchange.send)
        return exchange.response


class RunningSimulator:
    """A fresh simulator served by uvicorn (uvloop, httptools) in a background thread.

    Use as a context manager; ``base_url`` is ready on entry, and ``app`` is
    the served instance, so a test can also inspect its state directly.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.app = create_simulator_app()
        self.host = host
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            loop="uvloop",
            http="httptools",
            lifespan="off",
            access_log=False,
            log_level="warning",
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> RunningSimulator:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the simulator did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
