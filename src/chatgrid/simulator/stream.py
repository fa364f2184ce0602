"""Sending a chat stream: one ASGI message per event, with cuts, pauses, disconnects.

Each SSE event goes out as its own ``http.response.body`` message, so a
gateway sees bytes as they are produced, as it would from OpenAI. A task
watches for the client going away, because uvicorn silently drops what is
sent after a disconnect and the record must say how much really left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from chatgrid.simulator.records import RequestRecord
from chatgrid.simulator.wire import Headers, Receive, Send, abort_connection, wait_for_disconnect


async def send_stream(
    send: Send,
    receive: Receive,
    record: RequestRecord,
    headers: Headers,
    events: Iterator[tuple[bytes, int]],
    preamble: int,
    slow_ms: int,
    cut: int | None,
) -> None:
    """Send ``events``; ``preamble`` is how many leading events carry no content.

    ``cut=K`` aborts the connection after the preamble and K content events,
    or at the first event past the content when there are fewer, so a cut
    stream never shows its finish chunk, usage or ``[DONE]``.
    """
    watcher = asyncio.ensure_future(wait_for_disconnect(receive))
    try:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        record.status = 200
        content_events = 0
        pause = slow_ms / 1000
        for index, (event, tokens) in enumerate(events):
            if cut is not None and index >= preamble and (content_events >= cut or not tokens):
                record.cut = True
                await abort_connection(send, receive, watcher)
                return
            if pause and index:
                await asyncio.sleep(pause)
            if watcher.done():
                record.client_disconnected = True
                return
            await send({"type": "http.response.body", "body": event, "more_body": True})
            if tokens:
                content_events += 1
                record.completion_tokens_sent += tokens
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        if not watcher.done():
            watcher.cancel()
