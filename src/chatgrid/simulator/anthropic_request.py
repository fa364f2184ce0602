"""Validation of a ``POST /v1/messages`` body, refusing what Anthropic refuses.

Unknown top-level fields are refused (Anthropic forbids extra inputs), which
is what catches a gateway leaking OpenAI parameters (``n``, ``stop``,
``response_format``) into a translated request. ``tool_use`` / ``tool_result``
pairing is checked as Anthropic does: each ``tool_use`` of an assistant turn
needs its ``tool_result`` in the next user turn, and each ``tool_result`` a
``tool_use`` in the turn before.
"""

from __future__ import annotations

from typing import Final

from chatgrid.simulator import anthropic_blocks as blocks
from chatgrid.simulator import anthropic_errors as errs
from chatgrid.simulator.anthropic_blocks import Block
from chatgrid.simulator.catalogue import CLAUDE_ALIASES, CLAUDE_MAX_OUTPUT

_FIELDS: Final = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "tools",
        "tool_choice",
        "metadata",
        "thinking",
        "service_tier",
        "cache_control",
        "container",
        "context_management",
        "mcp_servers",
        "output_config",
        "inference_geo",
        "speed",
        "diagnostics",
    }
)
_GENERATION_ONLY: Final = frozenset(
    {"max_tokens", "stop_sequences", "stream", "temperature", "top_p", "top_k", "metadata"}
)
_ROLES: Final = ("user", "assistant")
_SERVICE_TIERS: Final = ("auto", "standard_only")


class Message:
    """One turn with its content as blocks (a string content is one text block)."""

    __slots__ = ("blocks", "role")

    def __init__(self, role: str, content: list[Block]) -> None:
        self.role = role
        self.blocks = content


class MessagesRequest:
    """The parts of a valid request that shape the reply and its usage."""

    __slots__ = (
        "breakpoints",
        "cache_last",
        "max_tokens",
        "messages",
        "model",
        "stop_sequences",
        "stream",
        "system",
        "tool_choice",
        "tool_defs",
        "tools",
    )

    def __init__(self, model: str, messages: list[Message], max_tokens: int) -> None:
        self.model = model
        self.messages = messages
        self.max_tokens = max_tokens
        self.system: list[Block] = []
        self.stop_sequences: list[str] = []
        self.stream = False
        self.tools: list[str] = []
        self.tool_defs: list[Block] = []
        #: "auto", "any", "none" or "tool:NAME".
        self.tool_choice = "auto"
        #: Top-level ``cache_control``: its TTL, applied to the last block.
        self.cache_last: str | None = None
        #: How many ``cache_control`` markers the request carries (at most four).
        self.breakpoints = 0

    def directive_text(self) -> str:
        """The last turn's text (text blocks and tool results), where directives live."""
        texts: list[str] = []
        for block in self.messages[-1].blocks:
            kind = block.get("type")
            if kind == "text":
                texts.append(str(block.get("text")))
            elif kind == "tool_result":
                content = block.get("content")
                if isinstance(content, str):
                    texts.append(content)
                elif isinstance(content, list):
                    texts += [str(p.get("text")) for p in content if p.get("type") == "text"]
        return "\n".join(texts)


def resolve_model(model: str) -> str | None:
    """The dated id of a Claude model or alias, else None."""
    if model in CLAUDE_MAX_OUTPUT:
        return model
    return CLAUDE_ALIASES.get(model)


def parse_messages_request(body: object, *, counting: bool = False) -> MessagesRequest:
    """Validate ``body``; ``counting`` for ``count_tokens``, which takes no ``max_tokens``."""
    if not isinstance(body, dict):
        raise errs.invalid_request("Input should be a valid dictionary")
    for name in body:
        if name not in _FIELDS or (counting and name in _GENERATION_ONLY):
            raise errs.extra_field(name)
    model = _model(body.get("model"))
    messages = _messages(body.get("messages"))
    max_tokens = 1 if counting else _max_tokens(body.get("max_tokens"), model)
    request = MessagesRequest(model, messages, max_tokens)
    request.system = blocks.system_blocks(body.get("system"))
    request.stop_sequences = _stop_sequences(body.get("stop_sequences"))
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise errs.wrong_type("stream", "a valid boolean")
    request.stream = stream
    _number(body, "temperature", 1)
    _number(body, "top_p", 1)
    top_k = body.get("top_k")
    if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 0):
        raise errs.wrong_type("top_k", "a valid integer greater than or equal to 0")
    request.tools = blocks.tool_names(body.get("tools"))
    if request.tools:
        request.tool_defs = body["tools"]
    request.tool_choice = blocks.tool_choice(body.get("tool_choice"), request.tools)
    _metadata(body.get("metadata"))
    tier = body.get("service_tier")
    if tier is not None and tier not in _SERVICE_TIERS:
        raise errs.wrong_type("service_tier", "'auto' or 'standard_only'")
    request.cache_last = blocks.cache_control(body, "") if "cache_control" in body else None
    _check_breakpoints(request)
    return request


def _model(model: object) -> str:
    if model is None:
        raise errs.field_required("model")
    if not isinstance(model, str):
        raise errs.wrong_type("model", "a valid string")
    resolved = resolve_model(model)
    if resolved is None:
        raise errs.model_not_found(model)
    return resolved


def _max_tokens(value: object, model: str) -> int:
    if value is None:
        raise errs.field_required("max_tokens")
    if not isinstance(value, int) or isinstance(value, bool):
        raise errs.wrong_type("max_tokens", "a valid integer")
    if value < 1:
        raise errs.wrong_type("max_tokens", "greater than or equal to 1")
    limit = CLAUDE_MAX_OUTPUT[model]
    if value > limit:
        raise errs.invalid_request(
            f"max_tokens: {value} > {limit}, which is the maximum allowed number of output "
            f"tokens for {model}"
        )
    return value


def _messages(raw: object) -> list[Message]:
    if raw is None:
        raise errs.field_required("messages")
    if not isinstance(raw, list):
        raise errs.wrong_type("messages", "a valid list")
    if not raw:
        raise errs.invalid_request("messages: at least one message is required")
    messages: list[Message] = []
    last = len(raw) - 1
    for index, message in enumerate(raw):
        where = f"messages.{index}"
        if not isinstance(message, dict):
            raise errs.wrong_type(where, "a valid dictionary")
        for name in message:
            if name not in ("role", "content"):
                raise errs.extra_field(f"{where}.{name}")
        role = message.get("role")
        if role is None:
            raise errs.field_required(f"{where}.role")
        if role not in _ROLES:
            raise errs.wrong_type(f"{where}.role", "'user' or 'assistant'")
        content = message.get("content")
        if content is None:
            raise errs.field_required(f"{where}.content")
        if isinstance(content, str):
            parts: list[Block] = [{"type": "text", "text": content}] if content else []
        elif isinstance(content, list):
            parts = [
                blocks.content_block(b, f"{where}.content.{i}", role) for i, b in enumerate(content)
            ]
        else:
            raise errs.wrong_type(f"{where}.content", "a valid list")
        if not parts and not (index == last and role == "assistant"):
            raise errs.invalid_request(
                f"{where}: all messages must have non-empty content except for the optional "
                "final assistant message"
            )
        messages.append(Message(role, parts))
    final = messages[-1]
    if final.role == "assistant" and final.blocks:
        text = final.blocks[-1].get("text")
        if isinstance(text, str) and text[-1:].isspace():
            raise errs.invalid_request(
                "messages: final assistant content cannot end with trailing whitespace"
            )
    _check_tool_pairs(messages)
    return messages


def _check_tool_pairs(messages: list[Message]) -> None:
    for index, message in enumerate(messages):
        results = [b for b in message.blocks if b.get("type") == "tool_result"]
        if results:
            before = messages[index - 1] if index else None
            asked = _tool_use_ids(before) if before is not None else set()
            for position, block in enumerate(message.blocks):
                answered = block.get("tool_use_id")
                if block.get("type") == "tool_result" and answered not in asked:
                    raise errs.invalid_request(
                        f"messages.{index}.content.{position}: unexpected `tool_use_id` found in "
                        f"`tool_result` blocks: {answered}. Each `tool_result` block must have "
                        "a corresponding `tool_use` block in the previous message."
                    )
        if message.role == "assistant" and index + 1 < len(messages):
            after = messages[index + 1]
            missing = _tool_use_ids(message) - {b.get("tool_use_id") for b in after.blocks}
            if missing:
                ids = ", ".join(sorted(map(str, missing)))
                raise errs.invalid_request(
                    f"messages.{index + 1}: `tool_use` ids were found without `tool_result` "
                    f"blocks immediately after: {ids}. Each `tool_use` block must have a "
                    "corresponding `tool_result` block in the next message."
                )


def _tool_use_ids(message: Message) -> set[object]:
    if message.role != "assistant":
        return set()
    return {b.get("id") for b in message.blocks if b.get("type") == "tool_use"}


def _stop_sequences(raw: object) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise errs.wrong_type("stop_sequences", "a valid list")
    for index, sequence in enumerate(raw):
        if not isinstance(sequence, str):
            raise errs.wrong_type(f"stop_sequences.{index}", "a valid string")
        if not sequence.strip():
            raise errs.invalid_request(
                "stop_sequences: each stop sequence must contain non-whitespace"
            )
    return raw


def _number(body: Block, name: str, high: int) -> None:
    value = body.get(name)
    if value is None:
        return
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise errs.wrong_type(name, "a valid number")
    if value < 0:
        raise errs.wrong_type(name, "greater than or equal to 0")
    if value > high:
        raise errs.wrong_type(name, f"less than or equal to {high}")


def _metadata(metadata: object) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise errs.wrong_type("metadata", "a valid dictionary")
    for name, value in metadata.items():
        if name != "user_id":
            raise errs.extra_field(f"metadata.{name}")
        if value is not None and not isinstance(value, str):
            raise errs.wrong_type("metadata.user_id", "a valid string")


def _check_breakpoints(request: MessagesRequest) -> None:
    """At most four ``cache_control`` markers, the top-level one included."""
    found = sum(1 for tool in request.tool_defs if tool.get("cache_control") is not None)
    for index, block in enumerate(request.system):
        found += blocks.cache_control(block, f"system.{index}") is not None
    for number, message in enumerate(request.messages):
        for index, block in enumerate(message.blocks):
            found += blocks.cache_control(block, f"messages.{number}.content.{index}") is not None
    found += request.cache_last is not None
    request.breakpoints = found
    if found > blocks.MAX_BREAKPOINTS:
        raise errs.invalid_request(
            f"A maximum of {blocks.MAX_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {found}."
        )
