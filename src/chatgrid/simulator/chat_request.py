"""Validation of a chat completion request, with OpenAI's messages and params.

A gateway's own validation is only as good as what it is tested against, so
the simulator refuses what OpenAI refuses, in the same words, with ``param``
pointing at the offending field. Fields the simulator does not act on are
accepted as they are (OpenAI would reject unknown ones; a gateway test is
better served by seeing them in the records).
"""

from __future__ import annotations

from typing import Final

from chatgrid.simulator import errors, params
from chatgrid.simulator.catalogue import CHAT_MODELS, MODEL_IDS

ROLES: Final = ("system", "assistant", "user", "function", "tool", "developer")
_PART_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "system": ("text",),
    "developer": ("text",),
    "user": ("text", "image_url", "input_audio", "file"),
    "assistant": ("text", "refusal"),
    "tool": ("text",),
    "function": ("text",),
}
_RESPONSE_FORMATS: Final = ("text", "json_object", "json_schema")
_TOOL_CHOICE_MODES: Final = ("none", "auto", "required")
_SERVICE_TIERS: Final = {
    "auto": "default",
    "default": "default",
    "flex": "flex",
    "scale": "scale",
    "priority": "priority",
    "fast": "priority",
}
MAX_CHOICES: Final = 128


class ChatRequest:
    """The parts of a valid request that shape the reply."""

    __slots__ = (
        "cap",
        "include_usage",
        "json_mode",
        "messages",
        "model",
        "n",
        "service_tier",
        "stream",
        "tool_choice",
        "tools",
    )

    def __init__(self, model: str, messages: list[dict[str, object]]) -> None:
        self.model = model
        self.messages = messages
        self.n = 1
        self.cap: int | None = None
        self.stream = False
        self.include_usage = False
        self.tools: list[str] = []
        #: "none", "auto", "required", or "function:NAME" when the caller forced one.
        self.tool_choice = "auto"
        self.json_mode = False
        self.service_tier = "default"


def parse_chat_request(
    body: object, deployment_model: str | None = None, models: frozenset[str] = CHAT_MODELS
) -> ChatRequest:
    """Validate ``body``; ``deployment_model`` is the model an Azure deployment fixes,
    ``models`` the chat models the path serves (Gemini's differ)."""
    if not isinstance(body, dict):
        raise errors.invalid_type("body", "an object", body)
    messages = _messages(body)
    model = deployment_model if deployment_model is not None else _model(body.get("model"), models)
    request = ChatRequest(model, messages)
    request.n = params.integer(body, "n", 1, MAX_CHOICES) or 1
    for name in ("max_tokens", "max_completion_tokens"):
        cap = params.integer(body, name, 1, None)
        if cap is not None:
            request.cap = cap if request.cap is None else min(cap, request.cap)
    params.number(body, "temperature", 2)
    params.number(body, "top_p", 1)
    request.stream = params.boolean(body, "stream")
    request.include_usage = _stream_options(body, request.stream)
    request.tools = _tools(body.get("tools"))
    request.tool_choice = _tool_choice(body.get("tool_choice"), request.tools)
    request.json_mode = _response_format(body.get("response_format"))
    tier = body.get("service_tier")
    if tier is not None:
        if not isinstance(tier, str) or tier not in _SERVICE_TIERS:
            raise errors.invalid_value("service_tier", tier, tuple(_SERVICE_TIERS))
        request.service_tier = _SERVICE_TIERS[tier]
    return request


def _model(model: object, models: frozenset[str]) -> str:
    if model is None:
        raise errors.missing_parameter("model")
    if not isinstance(model, str):
        raise errors.invalid_type("model", "a string", model)
    if model not in models:
        if model in MODEL_IDS:
            raise errors.ApiError(
                404,
                "This is not a chat model and thus not supported in the v1/chat/completions "
                "endpoint. Did you mean to use v1/completions?",
                param="model",
            )
        raise errors.model_not_found(model)
    return model


def _messages(body: dict[str, object]) -> list[dict[str, object]]:
    messages = body.get("messages")
    if messages is None:
        raise errors.missing_parameter("messages")
    if not isinstance(messages, list):
        raise errors.invalid_type("messages", "an array of objects", messages)
    if not messages:
        raise params.empty_array("messages")
    for index, message in enumerate(messages):
        _message(message, f"messages[{index}]")
    return messages


def _message(message: object, where: str) -> None:
    if not isinstance(message, dict):
        raise errors.invalid_type(where, "an object", message)
    role = message.get("role")
    if role is None:
        raise errors.missing_parameter(f"{where}.role")
    if not isinstance(role, str) or role not in ROLES:
        raise errors.invalid_value(f"{where}.role", role, ROLES)
    content = message.get("content")
    if content is None:
        if role not in ("assistant", "function"):
            raise errors.missing_parameter(f"{where}.content")
    elif isinstance(content, list):
        if not content:
            raise params.empty_array(f"{where}.content")
        for index, part in enumerate(content):
            _content_part(part, f"{where}.content[{index}]", _PART_TYPES[role])
    elif not isinstance(content, str):
        raise errors.invalid_type(
            f"{where}.content", "one of a string or array of objects", content
        )
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise errors.missing_parameter(f"{where}.tool_call_id")
    if role == "function" and not isinstance(message.get("name"), str):
        raise errors.missing_parameter(f"{where}.name")


def _content_part(part: object, where: str, allowed: tuple[str, ...]) -> None:
    if not isinstance(part, dict):
        raise errors.invalid_type(where, "an object", part)
    kind = part.get("type")
    if kind is None:
        raise errors.missing_parameter(f"{where}.type")
    if not isinstance(kind, str) or kind not in allowed:
        if len(allowed) == 1:
            raise errors.invalid_request(
                f"Invalid value: '{kind}'. Value must be '{allowed[0]}'.",
                f"{where}.type",
                "invalid_value",
            )
        raise errors.invalid_value(f"{where}.type", kind, allowed)
    if kind in ("text", "refusal") and not isinstance(part.get(kind), str):
        params.require(part, kind, f"{where}.{kind}", "a string")
    if kind == "image_url":
        image = part.get("image_url")
        if not isinstance(image, dict):
            params.require(part, "image_url", f"{where}.image_url", "an object")
        elif not isinstance(image.get("url"), str):
            params.require(image, "url", f"{where}.image_url.url", "a string")


def _stream_options(body: dict[str, object], stream: bool) -> bool:
    options = body.get("stream_options")
    if options is None:
        return False
    if not stream:
        raise errors.invalid_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
            "invalid_value",
        )
    if not isinstance(options, dict):
        raise errors.invalid_type("stream_options", "an object", options)
    include = options.get("include_usage")
    if include is not None and not isinstance(include, bool):
        raise errors.invalid_type("stream_options.include_usage", "a boolean", include)
    return include is True


def _tools(tools: object) -> list[str]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise errors.invalid_type("tools", "an array of objects", tools)
    if not tools:
        raise params.empty_array("tools")
    names: list[str] = []
    for index, tool in enumerate(tools):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise errors.invalid_type(where, "an object", tool)
        if tool.get("type") != "function":
            raise errors.invalid_request(
                f"Invalid value: '{tool.get('type')}'. Value must be 'function'.",
                f"{where}.type",
                "invalid_value",
            )
        function = tool.get("function")
        if not isinstance(function, dict):
            params.require(tool, "function", f"{where}.function", "an object")
        name = function.get("name")
        if not isinstance(name, str) or not name:
            params.require(function, "name", f"{where}.function.name", "a non-empty string")
        names.append(name)
    return names


def _tool_choice(choice: object, tools: list[str]) -> str:
    if choice is None:
        return "auto"
    if not tools:
        raise errors.invalid_request(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' "
            "are specified.",
            "tool_choice",
        )
    if isinstance(choice, str):
        if choice not in _TOOL_CHOICE_MODES:
            raise errors.invalid_value("tool_choice", choice, _TOOL_CHOICE_MODES)
        return choice
    if not isinstance(choice, dict):
        raise errors.invalid_type("tool_choice", "one of a string or an object", choice)
    if choice.get("type") == "allowed_tools":
        return "auto"
    function = choice.get("function")
    name = function.get("name") if isinstance(function, dict) else None
    if choice.get("type") != "function" or not isinstance(name, str) or not name:
        raise errors.invalid_request(
            "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or "
            '{"type": "function", "function": {"name": "..."}}.',
            "tool_choice",
            "invalid_value",
        )
    if name not in tools:
        raise errors.invalid_request(
            f"Invalid value for 'tool_choice': function '{name}' is not among 'tools'.",
            "tool_choice",
            "invalid_value",
        )
    return f"function:{name}"


def _response_format(response_format: object) -> bool:
    """True when the reply must be a JSON object."""
    if response_format is None:
        return False
    if not isinstance(response_format, dict):
        raise errors.invalid_type("response_format", "an object", response_format)
    kind = response_format.get("type")
    if not isinstance(kind, str) or kind not in _RESPONSE_FORMATS:
        raise errors.invalid_value("response_format.type", kind, _RESPONSE_FORMATS)
    if kind == "json_schema":
        schema = response_format.get("json_schema")
        if not isinstance(schema, dict):
            params.require(
                response_format, "json_schema", "response_format.json_schema", "an object"
            )
        elif not isinstance(schema.get("name"), str):
            params.require(schema, "name", "response_format.json_schema.name", "a string")
    return kind != "text"
