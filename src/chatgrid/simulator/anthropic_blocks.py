"""Validation of the parts of a Messages request: content blocks, system, tools, tool choice.

Anthropic validates with pydantic and answers the first failure as
``"<path>: <pydantic message>"`` (``messages.0.content.1.image.source: Field
required``); the simulator uses the same paths and wording, so a gateway that
translates requests is tested against the refusals it would really meet.
"""

from __future__ import annotations

import re
from typing import Final

from chatgrid.simulator import anthropic_errors as errs

Block = dict[str, object]

_TAGS: Final = (
    "text",
    "image",
    "document",
    "search_result",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "server_tool_use",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "container_upload",
)
_MEDIA_TYPES: Final = ("image/jpeg", "image/png", "image/gif", "image/webp")
_RESULT_TAGS: Final = ("text", "image", "document", "search_result")
_TOOL_NAME_RE: Final = re.compile(r"[a-zA-Z0-9_-]{1,128}")
_CHOICE_TYPES: Final = ("auto", "any", "tool", "none")
MAX_BREAKPOINTS: Final = 4


def _tag_error(where: str, tag: object, tags: tuple[str, ...]) -> errs.AnthropicError:
    expected = ", ".join(f"'{t}'" for t in tags)
    return errs.invalid_request(
        f"{where}: Input tag '{tag}' found using 'type' does not match any of the "
        f"expected tags: {expected}"
    )


def require_str(holder: Block, key: str, where: str) -> str:
    value = holder.get(key)
    if value is None:
        raise errs.field_required(f"{where}.{key}")
    if not isinstance(value, str):
        raise errs.wrong_type(f"{where}.{key}", "a valid string")
    return value


def cache_control(block: Block, where: str) -> str | None:
    """The block's cache TTL (``"5m"`` or ``"1h"``) when it is a cache breakpoint."""
    control = block.get("cache_control")
    if control is None:
        return None
    where = f"{where}.cache_control" if where else "cache_control"
    if not isinstance(control, dict):
        raise errs.wrong_type(where, "a valid dictionary")
    if control.get("type") != "ephemeral":
        raise _tag_error(where, control.get("type"), ("ephemeral",))
    ttl = control.get("ttl", "5m")
    if ttl not in ("5m", "1h"):
        raise errs.wrong_type(f"{where}.ephemeral.ttl", "'5m' or '1h'")
    return str(ttl)


def content_block(block: object, where: str, role: str) -> Block:
    if not isinstance(block, dict):
        raise errs.wrong_type(where, "a valid dictionary")
    kind = block.get("type")
    if kind is None:
        raise errs.invalid_request(f"{where}: Unable to extract tag using discriminator 'type'")
    if kind not in _TAGS:
        raise _tag_error(where, kind, _TAGS)
    if kind == "text":
        if not require_str(block, "text", f"{where}.text"):
            raise errs.invalid_request("messages: text content blocks must be non-empty")
    elif kind == "image":
        _image_source(block, f"{where}.image")
    elif kind == "document":
        source = block.get("source")
        if not isinstance(source, dict):
            raise errs.field_required(f"{where}.document.source")
    elif kind == "tool_use":
        if role != "assistant":
            raise errs.invalid_request(
                f"{where}: tool_use blocks may only appear in assistant turns"
            )
        require_str(block, "id", f"{where}.tool_use")
        require_str(block, "name", f"{where}.tool_use")
        if not isinstance(block.get("input"), dict):
            raise errs.wrong_type(f"{where}.tool_use.input", "a valid dictionary")
    elif kind == "tool_result":
        if role != "user":
            raise errs.invalid_request(f"{where}: tool_result blocks may only appear in user turns")
        _tool_result(block, f"{where}.tool_result")
    elif kind == "thinking":
        require_str(block, "thinking", f"{where}.thinking")
        require_str(block, "signature", f"{where}.thinking")
    return block


def _image_source(block: Block, where: str) -> None:
    source = block.get("source")
    if source is None:
        raise errs.field_required(f"{where}.source")
    if not isinstance(source, dict):
        raise errs.wrong_type(f"{where}.source", "a valid dictionary")
    kind = source.get("type")
    if kind == "base64":
        media = source.get("media_type")
        if media not in _MEDIA_TYPES:
            expected = ", ".join(f"'{m}'" for m in _MEDIA_TYPES[:-1])
            raise errs.wrong_type(
                f"{where}.source.base64.media_type", f"{expected} or '{_MEDIA_TYPES[-1]}'"
            )
        require_str(source, "data", f"{where}.source.base64")
    elif kind == "url":
        require_str(source, "url", f"{where}.source.url")
    elif kind == "file":
        require_str(source, "file_id", f"{where}.source.file")
    else:
        raise _tag_error(f"{where}.source", kind, ("base64", "url", "file"))


def _tool_result(block: Block, where: str) -> None:
    require_str(block, "tool_use_id", where)
    content = block.get("content")
    if isinstance(content, list):
        for index, part in enumerate(content):
            inner = f"{where}.content.{index}"
            if not isinstance(part, dict):
                raise errs.wrong_type(inner, "a valid dictionary")
            if part.get("type") not in _RESULT_TAGS:
                raise _tag_error(inner, part.get("type"), _RESULT_TAGS)
            content_block(part, inner, "user")
    elif content is not None and not isinstance(content, str):
        raise errs.wrong_type(f"{where}.content", "a valid string")
    is_error = block.get("is_error")
    if is_error is not None and not isinstance(is_error, bool):
        raise errs.wrong_type(f"{where}.is_error", "a valid boolean")


def system_blocks(system: object) -> list[Block]:
    """``system`` as a list of text blocks (a string is one block)."""
    if system is None:
        return []
    if isinstance(system, str):
        return [{"type": "text", "text": system}] if system else []
    if not isinstance(system, list):
        raise errs.wrong_type("system", "a valid list")
    for index, block in enumerate(system):
        where = f"system.{index}"
        if not isinstance(block, dict):
            raise errs.wrong_type(where, "a valid dictionary")
        if block.get("type") != "text":
            raise _tag_error(where, block.get("type"), ("text",))
        require_str(block, "text", where)
    return system


def tool_names(tools: object) -> list[str]:
    """The names of ``tools``, custom (with an ``input_schema``) and server tools alike."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise errs.wrong_type("tools", "a valid list")
    names: list[str] = []
    for index, tool in enumerate(tools):
        where = f"tools.{index}"
        if not isinstance(tool, dict):
            raise errs.wrong_type(where, "a valid dictionary")
        kind = tool.get("type", "custom")
        if kind in ("custom", None):
            name = require_str(tool, "name", f"{where}.custom")
            if not _TOOL_NAME_RE.fullmatch(name):
                raise errs.invalid_request(
                    f"{where}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
                )
            schema = tool.get("input_schema")
            if schema is None:
                raise errs.field_required(f"{where}.custom.input_schema")
            if not isinstance(schema, dict) or schema.get("type") != "object":
                raise errs.invalid_request(
                    f"{where}.custom.input_schema.type: Input should be 'object'"
                )
        else:
            name = require_str(tool, "name", f"{where}.{kind}")
        cache_control(tool, where)
        if name in names:
            raise errs.invalid_request("tools: Tool names must be unique.")
        names.append(name)
    return names


def tool_choice(choice: object, tools: list[str]) -> str:
    """``"auto"``, ``"any"``, ``"none"`` or ``"tool:NAME"``."""
    if choice is None:
        return "auto"
    if not isinstance(choice, dict):
        raise errs.wrong_type("tool_choice", "a valid dictionary")
    kind = choice.get("type")
    if kind not in _CHOICE_TYPES:
        raise _tag_error("tool_choice", kind, _CHOICE_TYPES)
    parallel = choice.get("disable_parallel_tool_use")
    if parallel is not None and not isinstance(parallel, bool):
        raise errs.wrong_type(f"tool_choice.{kind}.disable_parallel_tool_use", "a valid boolean")
    if kind in ("any", "tool") and not tools:
        raise errs.invalid_request("tool_choice: may only be specified while providing tools.")
    if kind == "tool":
        name = require_str(choice, "name", "tool_choice.tool")
        if name not in tools:
            raise errs.invalid_request(f"tool_choice.tool.name: Tool '{name}' not found in tools")
        return f"tool:{name}"
    return str(kind)
