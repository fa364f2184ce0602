"""OpenAI chat completions → Anthropic's Messages API: the request (pure: dicts in, dicts out).

A client speaking OpenAI's ``/v1/chat/completions`` to a Claude model gets
its request rewritten here, before the call, and its answer rewritten by
``anthropic_answer`` (whole) or ``anthropic_stream`` (streamed) on the way
back. What cannot be said in Messages terms is refused up front with an
OpenAI-shaped 400 (``unsupported_parameter``) rather than dropped silently:
a client asking for ``n=3`` or log-probabilities would otherwise get an
answer that quietly is not what it asked for.

How the two shapes meet:

* ``system`` and ``developer`` messages, wherever they stand, become the
  top-level ``system`` (one text block each, in order);
* consecutive turns of one role are merged into one turn, as Anthropic
  requires strict user/assistant alternation; ``tool`` messages become
  ``tool_result`` blocks of a user turn (so a run of them is one turn);
* assistant ``tool_calls`` become ``tool_use`` blocks (arguments parsed);
* a last message from the assistant stays the last turn: Anthropic takes it
  as a *prefill*, and the answer is only its continuation (the client joins
  the two). Anthropic refuses a prefill that ends in whitespace, so that
  whitespace is cut off (:func:`_trim_prefill`);
* content parts become content blocks (``anthropic_content``): text,
  images (``data:`` or http(s) URLs) and inline PDF files;
* ``stop`` becomes ``stop_sequences``, ``user`` becomes ``metadata.user_id``;
* ``temperature`` and ``top_p`` go only when not 1 (see :func:`_sampling`);
* ``max_tokens`` is required by Anthropic: ``max_completion_tokens``, else
  ``max_tokens``, else :data:`DEFAULT_MAX_TOKENS` (4,096, which every Claude
  model can produce). The reservation should bound the call with
  :func:`max_output_tokens`, which is the same number.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from chatgrid.errors import InvalidRequest
from chatgrid.providers.anthropic_content import text_blocks, unsupported, user_blocks

DEFAULT_MAX_TOKENS: Final = 4096

_TOOL_CHOICES: Final = {"auto": "auto", "none": "none", "required": "any"}
#: OpenAI parameters with no Messages equivalent, refused unless they hold their neutral value.
_NEUTRAL: Final = {
    "logprobs": (None, False),
    "top_logprobs": (None, 0),
    "presence_penalty": (None, 0),
    "frequency_penalty": (None, 0),
    "logit_bias": (None, {}),
    "audio": (None,),
    "prediction": (None,),
    "web_search_options": (None,),
    "functions": (None,),
    "function_call": (None,),
    "reasoning_effort": (None,),
}


def max_output_tokens(data: dict[str, Any]) -> int:
    """The output cap the Anthropic call will carry (what a reservation must bound)."""
    value = data.get("max_completion_tokens") or data.get("max_tokens")
    return value if isinstance(value, int) and not isinstance(value, bool) else DEFAULT_MAX_TOKENS


def anthropic_request(data: dict[str, Any]) -> dict[str, Any]:
    """The Messages body for an OpenAI chat completions body (already checked by
    ``gateway.bodies.chat_call``); raises :class:`InvalidRequest` for what Claude cannot do."""
    _refuse_unsupported(data)
    system, messages = _messages(data["messages"])
    _trim_prefill(messages)
    if not messages:
        raise InvalidRequest(
            "Claude models need at least one user message besides the system prompt",
            param="messages",
        )
    body: dict[str, Any] = {
        "model": data["model"],
        "max_tokens": max_output_tokens(data),
        "messages": messages,
    }
    if system:
        body["system"] = system
    stop = data.get("stop")
    if stop:
        body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    _sampling(data, body)
    user = data.get("user")
    if isinstance(user, str) and user:
        body["metadata"] = {"user_id": user}
    tools = data.get("tools")
    if tools:
        if not isinstance(tools, list):
            raise InvalidRequest("tools must be an array", param="tools")
        body["tools"] = [_tool(tool, i) for i, tool in enumerate(tools)]
        choice = _tool_choice(data.get("tool_choice"), data.get("parallel_tool_calls"))
        if choice is not None:
            body["tool_choice"] = choice
    if data.get("stream"):
        body["stream"] = True
    return body


def _sampling(data: dict[str, Any], body: dict[str, Any]) -> None:
    """``temperature`` and ``top_p`` are deprecated in Messages: models after Opus 4.6 take
    only their default, 1, and the SDK (1.0 on) sends them only as extra body fields. A 1
    is therefore left out (the same answer everywhere); any other value goes as asked,
    for the model to take or refuse (its 400 reaches the client as the upstream's)."""
    for name in ("temperature", "top_p"):
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise InvalidRequest(f"{name} must be between 0 and 1 for Claude models", param=name)
        if value != 1:
            body[name] = value


def _refuse_unsupported(data: dict[str, Any]) -> None:
    n = data.get("n")
    if n is not None and n != 1:
        raise unsupported("n must be 1: Claude models give one choice per call", "n")
    for name, neutral in _NEUTRAL.items():
        if name in data and data[name] not in neutral:
            raise unsupported(f"{name} cannot be used", name)
    modalities = data.get("modalities")
    if modalities and any(m != "text" for m in modalities):
        raise unsupported("only text output is available", "modalities")
    response_format = data.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type", "text") != "text":
        raise unsupported(
            f"response_format {response_format.get('type')!r} cannot be used; "
            "describe the JSON you want in the prompt, or use a tool",
            "response_format",
        )


def _messages(source: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    for index, message in enumerate(source):
        role = message["role"]
        if role == "system" or role == "developer":
            system.extend(text_blocks(message.get("content"), index))
            continue
        if role == "user":
            blocks = user_blocks(message.get("content"), index)
        elif role == "assistant":
            blocks = _assistant_blocks(message, index)
        elif role == "tool":
            blocks = [_tool_result(message, index)]
            role = "user"
        else:
            raise unsupported("function messages cannot be used; use tools", f"messages[{index}]")
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return system, turns


def _trim_prefill(turns: list[dict[str, Any]]) -> None:
    """Cut trailing whitespace off a final assistant turn (a prefill), which Anthropic
    refuses with a 400; text left empty goes, and so does a turn left empty."""
    while turns and turns[-1]["role"] == "assistant":
        blocks = turns[-1]["content"]
        last = blocks[-1]
        if last["type"] != "text" or not last["text"][-1:].isspace():
            return
        text = last["text"].rstrip()
        if text:
            blocks[-1] = {**last, "text": text}
            return
        blocks.pop()
        if not blocks:
            turns.pop()


def _assistant_blocks(message: dict[str, Any], index: int) -> list[dict[str, Any]]:
    content = message.get("content")
    blocks = [] if content is None else text_blocks(content, index)
    for number, call in enumerate(message.get("tool_calls") or ()):
        where = f"messages[{index}].tool_calls[{number}]"
        function = call.get("function") if isinstance(call, dict) else None
        if (
            not isinstance(function, dict)
            or not isinstance(call.get("id"), str)
            or not isinstance(function.get("name"), str)
        ):
            raise InvalidRequest(f"{where} must have an id and a function name", param=where)
        arguments = function.get("arguments") or "{}"
        try:
            parsed = orjson.loads(arguments)
        except (orjson.JSONDecodeError, TypeError):
            parsed = None
        if not isinstance(parsed, dict):
            raise InvalidRequest(
                f"{where}.function.arguments must be a JSON object",
                param=where,
                code="invalid_value",
            )
        blocks.append(
            {"type": "tool_use", "id": call["id"], "name": function.get("name"), "input": parsed}
        )
    return blocks


def _tool_result(message: dict[str, Any], index: int) -> dict[str, Any]:
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str):
        raise InvalidRequest(
            f"messages[{index}].tool_call_id must be a string",
            param=f"messages[{index}].tool_call_id",
        )
    content = message.get("content")
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id}
    if isinstance(content, str):
        result["content"] = content
    elif content is not None:
        result["content"] = text_blocks(content, index)
    return result


def _tool(tool: Any, index: int) -> dict[str, Any]:
    is_function = isinstance(tool, dict) and tool.get("type") == "function"
    function = tool.get("function") if is_function else None
    if not isinstance(function, dict):
        raise unsupported(f"tools[{index}] must be a function tool", f"tools[{index}]")
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRequest(f"tools[{index}].function.name is required", param=f"tools[{index}]")
    converted: dict[str, Any] = {
        "name": name,
        "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
    }
    description = function.get("description")
    if description:
        converted["description"] = description
    return converted


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    if choice is None:
        converted: dict[str, Any] | None = None
    elif isinstance(choice, str) and choice in _TOOL_CHOICES:
        converted = {"type": _TOOL_CHOICES[choice]}
    elif isinstance(choice, dict) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name")
        if not isinstance(name, str):
            raise InvalidRequest("tool_choice.function.name is required", param="tool_choice")
        converted = {"type": "tool", "name": name}
    else:
        raise unsupported("tool_choice must be auto, none, required or a function", "tool_choice")
    if parallel is False:
        converted = converted or {"type": "auto"}
        if converted["type"] != "none":
            converted["disable_parallel_tool_use"] = True
    return converted
