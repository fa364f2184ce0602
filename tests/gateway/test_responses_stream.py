"""The Responses stream tracker: usage from the final event, which waits for the ledger."""

from __future__ import annotations

import orjson

from chatgrid.gateway.responses_stream import ResponsesStreamTracker

USAGE = {
    "input_tokens": 11,
    "input_tokens_details": {"cached_tokens": 3},
    "output_tokens": 2,
    "total_tokens": 13,
}


def event(kind: str, **fields: object) -> bytes:
    return b"event: %s\ndata: %s\n\n" % (kind.encode(), orjson.dumps({"type": kind, **fields}))


def test_the_final_event_is_held_back_and_its_usage_read() -> None:
    tracker = ResponsesStreamTracker()
    stream = b"".join(
        [
            event("response.created", response={"usage": None}),
            event("response.output_text.delta", delta="a"),
            event("response.output_text.delta", delta="b"),
            event("response.completed", response={"usage": USAGE}),
        ]
    )
    passed = b"".join(tracker.feed(stream[i : i + 7]) for i in range(0, len(stream), 7))
    assert passed.count(b"event: ") == 3 and b"response.completed" not in passed
    assert tracker.held.startswith(b"event: response.completed") and tracker.done
    assert tracker.usage is not None and tracker.content_chunks == 2
    assert (tracker.usage.prompt_tokens, tracker.usage.cached_tokens) == (11, 3)
    assert tracker.usage.completion_tokens == 2


def test_an_incomplete_response_carries_its_usage_too() -> None:
    tracker = ResponsesStreamTracker()
    tracker.feed(event("response.incomplete", response={"usage": USAGE}))
    assert tracker.done and tracker.usage is not None


def test_a_cut_stream_is_not_done_and_has_no_usage() -> None:
    tracker = ResponsesStreamTracker()
    tracker.feed(event("response.output_text.delta", delta="a") + b"event: resp")
    assert not tracker.done and tracker.usage is None and tracker.content_chunks == 1


def test_a_crlf_stream_split_at_every_byte_reads_the_same() -> None:
    stream = b"".join(
        [
            event("response.output_text.delta", delta="a"),
            event("response.completed", response={"usage": USAGE}),
        ]
    ).replace(b"\n", b"\r\n")
    for size in (1, 2, 3):
        tracker = ResponsesStreamTracker()
        passed = b"".join(tracker.feed(stream[i : i + size]) for i in range(0, len(stream), size))
        assert passed.count(b"event: ") == 1 and tracker.content_chunks == 1, size
        assert tracker.done and tracker.usage is not None and tracker.usage.prompt_tokens == 11
