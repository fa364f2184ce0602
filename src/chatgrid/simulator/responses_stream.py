"""The Responses API's streamed events, each with its ``sequence_number``.

For a text reply: ``response.created``, ``response.in_progress``,
``response.output_item.added``, ``response.content_part.added``, one
``response.output_text.delta`` per token, ``response.output_text.done``,
``response.content_part.done``, ``response.output_item.done`` and
``response.completed`` (``response.incomplete`` when ``max_output_tokens``
cut the reply), whose ``response`` carries the usage. A function call sends
``response.function_call_arguments.delta`` / ``.done`` in place of the
content part and text events. Each event is ``event: TYPE`` and ``data:
JSON``, as OpenAI sends them; a delta is a byte concatenation, like chat's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from chatgrid.simulator.chat import Choice

#: Events before the first one that carries content (``send_stream``'s preamble).
TEXT_PREAMBLE = 4
CALL_PREAMBLE = 3


def _event(kind: str, sequence: int, fields: dict[str, object]) -> bytes:
    payload = orjson.dumps({"type": kind, **fields, "sequence_number": sequence})
    return b"event: %s\ndata: %s\n\n" % (kind.encode(), payload)


def response_events(
    response: dict[str, Any], choice: Choice
) -> tuple[Iterator[tuple[bytes, int]], int]:
    """The events and how many of them lead before the content."""
    preamble = CALL_PREAMBLE if choice.tool_name is not None else TEXT_PREAMBLE
    return _events(response, choice), preamble


def _events(response: dict[str, Any], choice: Choice) -> Iterator[tuple[bytes, int]]:
    started = {
        **response,
        "status": "in_progress",
        "completed_at": None,
        "incomplete_details": None,
        "output": [],
    }
    del started["usage"]  # the spec's usage is an object; it only comes with the end
    yield _event("response.created", 0, {"response": started}), 0
    yield _event("response.in_progress", 1, {"response": started}), 0
    item = response["output"][0]
    item_id = item["id"]
    where = {"item_id": item_id, "output_index": 0}
    if choice.tool_name is not None:
        opened = {**item, "arguments": "", "status": "in_progress"}
        yield _event("response.output_item.added", 2, {"output_index": 0, "item": opened}), 0
        delta = {**where, "delta": item["arguments"]}
        yield _event("response.function_call_arguments.delta", 3, delta), choice.tokens
        done = {**where, "name": item["name"], "arguments": item["arguments"]}
        yield _event("response.function_call_arguments.done", 4, done), 0
        sequence = 5
    else:
        opened = {**item, "content": [], "status": "in_progress"}
        yield _event("response.output_item.added", 2, {"output_index": 0, "item": opened}), 0
        part = item["content"][0]
        empty_part = {**part, "text": ""}
        at = {**where, "content_index": 0}
        yield _event("response.content_part.added", 3, {**at, "part": empty_part}), 0
        sequence = 4
        head = b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta",'
        head += orjson.dumps(at)[1:-1] + b',"delta":'
        for word in choice.words:
            word_json = orjson.dumps(word)
            yield b'%s%s,"logprobs":[],"sequence_number":%d}\n\n' % (head, word_json, sequence), 1
            sequence += 1
        text_done = {**at, "text": part["text"], "logprobs": []}
        yield _event("response.output_text.done", sequence, text_done), 0
        yield _event("response.content_part.done", sequence + 1, {**at, "part": part}), 0
        sequence += 2
    yield _event("response.output_item.done", sequence, {"output_index": 0, "item": item}), 0
    final = "response.completed" if response["status"] == "completed" else "response.incomplete"
    yield _event(final, sequence + 1, {"response": response}), 0
