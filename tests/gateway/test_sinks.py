"""``/v1``'s sink writes the relay's answer as OpenAI's wire format (no server needed).

An ASGI channel is two callables; here ``send`` keeps the messages a server
would have written and ``receive`` is the client hanging up when told to.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from chatgrid.errors import InvalidRequest, RateLimited, UpstreamFailed
from chatgrid.gateway.sinks import AsgiSink


class Channel:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.gone = asyncio.Event()

    async def send(self, message: Any) -> None:
        self.sent.append(dict(message))

    async def receive(self) -> Any:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])

    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


def test_a_whole_answer_carries_the_call_and_upstream_ids() -> None:
    channel = Channel()
    sink = AsgiSink(channel.receive, channel.send)
    asyncio.run(sink.answer(b'{"ok":1}', b"application/json", "call_1", "req_9"))
    assert channel.sent[0]["status"] == 200
    headers = channel.headers()
    assert headers[b"x-request-id"] == b"call_1"
    assert headers[b"x-upstream-request-id"] == b"req_9"
    assert headers[b"content-length"] == b"8"
    assert channel.body() == b'{"ok":1}'


def test_a_refusal_is_openais_error_json_with_its_status_and_retry_after() -> None:
    channel = Channel()
    sink = AsgiSink(channel.receive, channel.send)
    error = RateLimited("slow down", retry_after=3)
    asyncio.run(sink.refuse(error, "call_2", None))
    assert channel.sent[0]["status"] == 429
    headers = channel.headers()
    assert headers[b"retry-after"] == b"3" and headers[b"x-request-id"] == b"call_2"
    assert b"x-upstream-request-id" not in headers
    assert orjson.loads(channel.body())["error"]["message"] == "slow down"


def test_the_upstreams_own_error_passes_through_byte_for_byte() -> None:
    channel = Channel()
    sink = AsgiSink(channel.receive, channel.send)
    upstream = b'{"error": {"message": "bad n", "param": "n", "extra": true}}'
    error = InvalidRequest("bad n", param="n", status=422)
    asyncio.run(sink.refuse(error, "call_3", "req_3", upstream))
    assert channel.sent[0]["status"] == 422
    assert channel.body() == upstream


def test_a_refusal_without_a_committed_entry_names_no_call() -> None:
    channel = Channel()
    sink = AsgiSink(channel.receive, channel.send)
    asyncio.run(sink.refuse(UpstreamFailed("ledger down"), None, None))
    assert channel.sent[0]["status"] == 502
    assert b"x-request-id" not in channel.headers()


def test_a_stream_relays_events_then_done_or_the_error_that_ended_it() -> None:
    async def stream(error: UpstreamFailed | None) -> tuple[Channel, bool]:
        channel = Channel()
        sink = AsgiSink(channel.receive, channel.send)
        await sink.open_stream("call_4", None)
        await sink.stream_events(b'data: {"choices":[]}\n\n')
        gone = sink.stop_listening()
        await sink.close_stream(error)
        return channel, gone

    done, gone = asyncio.run(stream(None))
    assert not gone
    assert done.headers()[b"content-type"].startswith(b"text/event-stream")
    assert done.body() == b'data: {"choices":[]}\n\ndata: [DONE]\n\n'
    assert done.sent[-1]["more_body"] is False
    cut, _ = asyncio.run(stream(UpstreamFailed("cut", code="upstream_stream_cut")))
    tail = cut.body().split(b"\n\n")[-2]
    assert orjson.loads(tail.removeprefix(b"data: "))["error"]["code"] == "upstream_stream_cut"


def test_a_client_hanging_up_mid_stream_is_seen() -> None:
    async def scenario() -> tuple[bool, bool, bool]:
        channel = Channel()
        sink = AsgiSink(channel.receive, channel.send)
        await sink.open_stream("call_5", None)
        before = sink.hung_up()
        channel.gone.set()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return before, sink.hung_up(), sink.stop_listening()

    assert asyncio.run(scenario()) == (False, True, True)
