"""Time streamed chat completions on raw keep-alive sockets.

An SDK's own overhead would sit on both sides of the comparison and blur it,
so this client writes the request bytes itself and reads the chunked reply:
time to the first body byte (the first SSE event, not just the headers) and
time to the terminating chunk. Requests alternate between the two targets,
one at a time, so drift on the machine hits both alike.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from _procs import BenchError

_DONE = b"data: [DONE]"


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    headers: dict[str, str]
    #: What the last event holds (Anthropic's Messages streams end on ``message_stop``).
    done: bytes = _DONE
    #: This target's own request body, when it differs from the one all the others send.
    body: bytes | None = None


@dataclass
class StreamTimes:
    first_byte_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)


class _Connection:
    """One HTTP/1.1 keep-alive connection that posts and times streamed replies."""

    def __init__(self, target: Target, body: bytes) -> None:
        parts = urlsplit(target.url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{k}: {v}" for k, v in target.headers.items()]
        lines += [f"Content-Length: {len(body)}", "", ""]
        self.request = "\r\n".join(lines).encode() + body
        self.label = target.name
        self.done = target.done
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    async def timed_stream(self) -> tuple[float, float]:
        """(ms to the first body byte, ms to the end of the stream) for one request."""
        reader, writer = self.reader, self.writer
        if reader is None or writer is None:
            raise BenchError(f"{self.label}: connection not open")
        started = time.perf_counter()
        writer.write(self.request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if b"transfer-encoding: chunked" not in head.lower():
            raise BenchError(f"{self.label}: expected a chunked stream, got:\n{head.decode()}")
        first_byte = 0.0
        body = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            if not first_byte:
                first_byte = time.perf_counter()
            size = int(size_line.split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # the blank line after the last chunk
                break
            body += (await reader.readexactly(size + 2))[:-2]
        ended = time.perf_counter()
        if status != 200 or self.done not in body:
            raise BenchError(f"{self.label}: HTTP {status}, stream was:\n{body[:500].decode()}")
        return (first_byte - started) * 1000, (ended - started) * 1000


async def _alternate(
    targets: list[Target], body: bytes, count: int, warmup: int
) -> list[StreamTimes]:
    connections = [_Connection(target, target.body or body) for target in targets]
    try:
        for connection in connections:
            await connection.open()
        results = [StreamTimes() for _ in targets]
        for index in range(warmup + count):
            for connection, times in zip(connections, results, strict=True):
                first_byte, total = await connection.timed_stream()
                if index >= warmup:
                    times.first_byte_ms.append(first_byte)
                    times.total_ms.append(total)
        return results
    finally:
        for connection in connections:
            connection.close()


def _run(coroutine: Coroutine[Any, Any, list[StreamTimes]]) -> list[StreamTimes]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    result: list[StreamTimes] = uvloop.run(coroutine)
    return result


def measure_streams(
    targets: list[Target], body: bytes, *, count: int, warmup: int
) -> list[StreamTimes]:
    """Stream ``count`` replies from each target in turn (after ``warmup`` each)."""
    return _run(_alternate(targets, body, count, warmup))
