"""A Responses request's ``input``, ``tools`` and ``tool_choice``, read as chat would see them.

``input`` items become chat messages so that ``chat.plan_reply`` and the
token rule in ``tokens`` apply unchanged: ``input_text`` / ``output_text``
parts count as text parts, ``input_image`` as an image part (85 tokens),
``function_call_output`` as a ``tool`` message and ``function_call`` as an
assistant tool call. Files, audio, reasoning items and item references are
accepted and not counted. The other way round, a reply becomes the assistant
message a later response's conversation continues from.
"""

from __future__ import annotations

from typing import Final

from chatgrid.simulator import errors, params
from chatgrid.simulator.chat import Choice

Message = dict[str, object]

_ROLES: Final = ("user", "assistant", "system", "developer")
_TEXT_PARTS: Final = frozenset({"input_text", "output_text", "text"})
_SILENT_PARTS: Final = frozenset({"input_file", "input_audio", "refusal"})
_PART_TYPES: Final = ("input_text", "input_image", "input_file", "input_audio", "output_text")
_SILENT_ITEMS: Final = frozenset({"item_reference", "reasoning"})
_ITEM_TYPES: Final = ("message", "function_call", "function_call_output", "item_reference")
_TOOL_CHOICE_MODES: Final = ("none", "auto", "required")


def input_messages(raw: object) -> list[Message]:
    if isinstance(raw, str):
        return [{"role": "user", "content": raw}]
    if not isinstance(raw, list):
        raise errors.invalid_type("input", "one of a string or array of objects", raw)
    messages: list[Message] = []
    for index, item in enumerate(raw):
        message = _item(item, f"input[{index}]")
        if message is not None:
            messages.append(message)
    return messages


def _item(item: object, where: str) -> Message | None:
    if not isinstance(item, dict):
        raise errors.invalid_type(where, "an object", item)
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        if role is None:
            raise errors.missing_parameter(f"{where}.role")
        if not isinstance(role, str) or role not in _ROLES:
            raise errors.invalid_value(f"{where}.role", role, _ROLES)
        return {"role": role, "content": _content(item.get("content"), f"{where}.content")}
    if kind == "function_call_output":
        call_id = item.get("call_id")
        if not isinstance(call_id, str):
            params.require(item, "call_id", f"{where}.call_id", "a string")
        output = item.get("output")
        if isinstance(output, list):
            output = _content(output, f"{where}.output")
        elif not isinstance(output, str):
            params.require(item, "output", f"{where}.output", "a string")
        return {"role": "tool", "tool_call_id": call_id, "content": output}
    if kind == "function_call":
        name = item.get("name")
        if not isinstance(name, str):
            params.require(item, "name", f"{where}.name", "a string")
        call = {
            "id": item.get("call_id"),
            "type": "function",
            "function": {"name": name, "arguments": item.get("arguments", "")},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    if kind in _SILENT_ITEMS:
        return None
    raise errors.invalid_value(f"{where}.type", kind, _ITEM_TYPES)


def _content(content: object, where: str) -> str | list[Message]:
    """A string, or the parts in chat's shape (``text`` and ``image_url`` parts)."""
    if isinstance(content, str):
        return content
    if content is None:
        raise errors.missing_parameter(where)
    if not isinstance(content, list):
        raise errors.invalid_type(where, "one of a string or array of objects", content)
    parts: list[Message] = []
    for index, part in enumerate(content):
        here = f"{where}[{index}]"
        if not isinstance(part, dict):
            raise errors.invalid_type(here, "an object", part)
        kind = part.get("type")
        if kind in _TEXT_PARTS:
            text = part.get("text")
            if not isinstance(text, str):
                params.require(part, "text", f"{here}.text", "a string")
            parts.append({"type": "text", "text": text})
        elif kind == "input_image":
            url = part.get("image_url") or part.get("file_id") or ""
            parts.append({"type": "image_url", "image_url": {"url": url}})
        elif kind not in _SILENT_PARTS:
            raise errors.invalid_value(f"{here}.type", kind, _PART_TYPES)
    return parts


def tools(raw: object) -> list[str]:
    """The names of the function tools; other tool types are accepted and never called."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise errors.invalid_type("tools", "an array of objects", raw)
    names: list[str] = []
    for index, tool in enumerate(raw):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise errors.invalid_type(where, "an object", tool)
        kind = tool.get("type")
        if kind is None:
            raise errors.missing_parameter(f"{where}.type")
        if kind == "function":
            name = tool.get("name")
            if not isinstance(name, str) or not name:
                params.require(tool, "name", f"{where}.name", "a non-empty string")
            names.append(name)
    return names


def tool_choice(choice: object, names: list[str]) -> str:
    """As ``chat_request``: "none", "auto", "required" or "function:NAME"."""
    if choice is None:
        return "auto"
    if isinstance(choice, str):
        if choice not in _TOOL_CHOICE_MODES:
            raise errors.invalid_value("tool_choice", choice, _TOOL_CHOICE_MODES)
        return choice
    if not isinstance(choice, dict):
        raise errors.invalid_type("tool_choice", "one of a string or an object", choice)
    if choice.get("type") != "function":
        return "auto"
    name = choice.get("name")
    if not isinstance(name, str) or name not in names:
        raise errors.invalid_request(
            f"Tool choice '{name}' not found in 'tools' parameter.", "tool_choice"
        )
    return f"function:{name}"


def assistant_message(choice: Choice) -> Message:
    """The reply as a chat message, for the conversation a later response continues."""
    if choice.tool_name is None:
        return {"role": "assistant", "content": "".join(choice.words)}
    call = {
        "id": choice.tool_call_id,
        "type": "function",
        "function": {"name": choice.tool_name, "arguments": "{}"},
    }
    return {"role": "assistant", "content": None, "tool_calls": [call]}


def echoed_tools(raw: object) -> list[object]:
    """The request's tools as OpenAI echoes them (function tools with every field)."""
    if not isinstance(raw, list):
        return []
    echoed: list[object] = []
    for tool in raw:
        if isinstance(tool, dict) and tool.get("type") == "function":
            tool = {
                "type": "function",
                "name": tool.get("name"),
                "description": tool.get("description"),
                "parameters": tool.get("parameters"),
                "strict": tool.get("strict", True),
            }
        echoed.append(tool)
    return echoed
