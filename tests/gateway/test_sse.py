import orjson

from chatgrid.gateway.sse import StreamTracker


def chunk(content: str | None = None, *, usage: object = None, choices: bool = True) -> bytes:
    body: dict[str, object] = {"id": "c1", "object": "chat.completion.chunk", "usage": usage}
    body["choices"] = (
        [{"index": 0, "delta": {"content": content} if content is not None else {}}]
        if choices
        else []
    )
    return b"data: " + orjson.dumps(body) + b"\n\n"


USAGE = {
    "prompt_tokens": 12,
    "completion_tokens": 3,
    "total_tokens": 15,
    "prompt_tokens_details": {"cached_tokens": 4},
}
STREAM = [
    chunk(""),
    chunk(" a"),
    chunk(" b"),
    chunk(" c"),
    chunk(usage=USAGE, choices=False),
    b"data: [DONE]\n\n",
]


def relay(tracker: StreamTracker, parts: list[bytes]) -> bytes:
    return b"".join(tracker.feed(p) for p in parts)


def test_usage_is_captured_and_hidden_when_the_client_did_not_ask() -> None:
    tracker = StreamTracker(forward_usage=False)
    out = relay(tracker, STREAM)
    assert tracker.usage is not None and tracker.usage.prompt_tokens == 12
    assert tracker.usage.cached_tokens == 4
    assert b'"usage"' not in out
    assert b"[DONE]" not in out  # held back until the ledger commit
    assert tracker.done
    assert out.count(b"data: ") == 4


def test_usage_is_forwarded_when_the_client_asked() -> None:
    tracker = StreamTracker(forward_usage=True)
    out = relay(tracker, STREAM)
    assert b'"prompt_tokens":12' in out
    assert out.count(b'"usage":null') == 4


def test_events_split_across_reads_are_reassembled() -> None:
    whole = b"".join(STREAM)
    tracker = StreamTracker(forward_usage=False)
    out = relay(tracker, [whole[i : i + 7] for i in range(0, len(whole), 7)])
    assert tracker.usage is not None and tracker.done
    assert out == relay(StreamTracker(forward_usage=False), STREAM)


def test_a_cut_stream_counts_the_content_chunks_it_carried() -> None:
    tracker = StreamTracker(forward_usage=False)
    relay(tracker, STREAM[:3])
    assert tracker.usage is None and not tracker.done
    assert tracker.content_chunks == 2


def test_crlf_streams_are_understood() -> None:
    tracker = StreamTracker(forward_usage=False)
    relay(tracker, [p.replace(b"\n", b"\r\n") for p in STREAM])
    assert tracker.usage is not None and tracker.done


def test_crlf_streams_split_at_every_byte_give_the_same_events() -> None:
    """A read may end between ``\\r`` and ``\\n``: no event may be held back or mangled."""
    whole = b"".join(STREAM).replace(b"\n", b"\r\n")
    expected = relay(StreamTracker(forward_usage=False), STREAM)
    for size in (1, 2, 3, 5):
        tracker = StreamTracker(forward_usage=False)
        out = relay(tracker, [whole[i : i + size] for i in range(0, len(whole), size)])
        assert out == expected, size
        assert tracker.usage is not None and tracker.done
