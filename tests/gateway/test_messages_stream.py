"""The /v1/messages pass-through reads a stream's usage without changing a byte (pure)."""

from __future__ import annotations

from chatgrid.gateway.messages_api import MessagesStream
from chatgrid.ledger.pricing import Usage

EVENTS = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1",'
    b'"usage":{"input_tokens":10,"cache_read_input_tokens":4,'
    b'"cache_creation_input_tokens":6,"output_tokens":1}}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":"Hi"}}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
    b'"usage":{"output_tokens":7}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)


def test_events_pass_unchanged_and_their_usage_is_read_however_they_are_split() -> None:
    for size in (1, 7, 64, len(EVENTS)):
        stream = MessagesStream()
        out = b"".join(stream.feed(EVENTS[i : i + size]) for i in range(0, len(EVENTS), size))
        assert out == EVENTS
        assert stream.done
        assert stream.usage == Usage(20, 4, 7, cache_write_tokens=6)


def test_a_stream_cut_after_its_start_is_estimated_from_message_start() -> None:
    stream = MessagesStream()
    cut = EVENTS.index(b"event: message_delta")
    stream.feed(EVENTS[:cut])
    assert stream.usage is None and not stream.done
    assert stream.estimate() == Usage(20, 4, 1, cache_write_tokens=6)


def test_crlf_line_ends_are_read_too() -> None:
    stream = MessagesStream()
    out = stream.feed(EVENTS.replace(b"\n", b"\r\n"))
    assert out == EVENTS and stream.done
