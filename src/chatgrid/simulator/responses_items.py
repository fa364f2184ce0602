"""``GET /v1/responses/{id}/input_items``: the items a stored response was made from.

OpenAI lists a response's own ``input`` (not the conversation it continued),
each item with an id, a string input as one user message of ``input_text``
(an assistant's string content as ``output_text``),
newest first unless ``order=asc``, ``limit`` (1 to 100, default 20) at a time
after the ``after`` id.
"""

from __future__ import annotations

from random import getrandbits
from typing import Final
from urllib.parse import parse_qs

from chatgrid.simulator import errors

DEFAULT_LIMIT: Final = 20
MAX_LIMIT: Final = 100
_PREFIXES: Final = {"message": "msg_", "function_call": "fc_", "function_call_output": "fco_"}

Item = dict[str, object]


def input_items(raw_input: object) -> list[Item]:
    """The request's ``input`` as stored items (each given an id, messages a status)."""
    if isinstance(raw_input, str):
        raw_input = [{"role": "user", "content": raw_input}]
    if not isinstance(raw_input, list):
        return []
    items: list[Item] = []
    for raw in raw_input:
        if not isinstance(raw, dict):
            continue
        kind = str(raw.get("type", "message"))
        item: Item = {"id": f"{_PREFIXES.get(kind, 'item_')}{getrandbits(192):048x}", **raw}
        item["type"] = kind
        if kind == "message":
            content = raw.get("content")
            if isinstance(content, str) and raw.get("role") == "assistant":
                item["content"] = [_output_text(content)]
            elif isinstance(content, str):
                item["content"] = [{"type": "input_text", "text": content}]
            item["status"] = "completed"
        items.append(item)
    return items


def item_list(items: list[Item], query: bytes) -> dict[str, object]:
    """One page of ``items`` as the query asks (OpenAI's ``ResponseItemList``)."""
    params = parse_qs(query.decode("latin-1"))
    order = params.get("order", ["desc"])[-1]
    if order not in ("asc", "desc"):
        raise errors.invalid_value("order", order, ("asc", "desc"))
    limit_text = params.get("limit", [str(DEFAULT_LIMIT)])[-1]
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise errors.invalid_request(
            f"Invalid 'limit': integer between 1 and {MAX_LIMIT} expected.", "limit"
        )
    ordered = items if order == "asc" else items[::-1]
    after = params.get("after", [None])[-1]
    if after is not None:
        ids = [item["id"] for item in ordered]
        if after not in ids:
            raise errors.invalid_request(f"Item with id '{after}' not found.", "after")
        ordered = ordered[ids.index(after) + 1 :]
    page = ordered[: int(limit_text)]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(ordered) > len(page),
    }


def _output_text(text: str) -> Item:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
