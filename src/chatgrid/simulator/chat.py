"""The reply to a chat completion: what it says, what it costs, and its wire bytes.

Pure functions of the validated request and its directives, so the same
request always gets the same words and usage (only ``id`` and ``created``
differ), and streaming and non-streaming replies carry the same text. The
stream's constant JSON is serialised once per response and every chunk is a
byte concatenation, which keeps a chunk at well under a microsecond.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

import orjson

from chatgrid.simulator import tokens
from chatgrid.simulator.chat_request import ChatRequest
from chatgrid.simulator.directives import Directives, strip_directives
from chatgrid.simulator.records import Usage

DEFAULT_REPLY_TOKENS: Final = 16
SYSTEM_FINGERPRINT: Final = "fp_5f0c1a9e2b"
JSON_PREFIX: Final = '{"reply": "'
JSON_SUFFIX: Final = '"}'

_DONE: Final = b"data: [DONE]\n\n"
_ROLE_DELTA: Final = b'{"role":"assistant","content":"","refusal":null}'
_OPEN_CHOICES: Final = b',"choices":['
_CHOICE_TAIL: Final = b',"logprobs":null,"finish_reason":null}'


class Choice:
    """One choice: either ``words`` (text) or a call of ``tool_name``."""

    __slots__ = ("finish_reason", "tokens", "tool_call_id", "tool_name", "words")

    def __init__(self, words: list[str], finish_reason: str) -> None:
        self.words = words
        self.finish_reason = finish_reason
        self.tool_name: str | None = None
        self.tool_call_id = ""
        self.tokens = len(words)


class ChatReply:
    __slots__ = ("choices", "usage")

    def __init__(self, choices: list[Choice], usage: Usage) -> None:
        self.choices = choices
        self.usage = usage


def plan_reply(request: ChatRequest, directives: Directives) -> ChatReply:
    """Decide every choice's content and the usage, following the rules in ``tokens``."""
    seed = tokens.messages_seed(request.messages)
    tool = _tool_to_call(request, directives)
    echoed = _echo_words(request) if directives.echo else None
    if echoed is not None:
        wanted = len(echoed)
    else:
        wanted = DEFAULT_REPLY_TOKENS if directives.tokens is None else directives.tokens
    count = wanted if request.cap is None else min(wanted, request.cap)
    finish_reason = "length" if count < wanted else "stop"
    if request.json_mode:
        count = max(count, 1)
    choices: list[Choice] = []
    for index in range(request.n):
        if tool is not None:
            choice = Choice([], "tool_calls")
            choice.tool_name = tool
            choice.tool_call_id = tokens.tool_call_id(seed, index)
            choice.tokens = tokens.tool_call_tokens(tool)
        else:
            words = echoed[:count] if echoed is not None else tokens.reply_words(seed, index, count)
            if directives.cite and finish_reason == "stop":
                words += _citations(request)
            if request.json_mode:
                words[0] = JSON_PREFIX + words[0]
                words[-1] += JSON_SUFFIX
            choice = Choice(words, finish_reason)
        choices.append(choice)
    prompt = tokens.prompt_tokens(request.messages)
    cached = min(directives.cached or 0, prompt)
    return ChatReply(choices, Usage(prompt, sum(c.tokens for c in choices), cached))


def _tool_to_call(request: ChatRequest, directives: Directives) -> str | None:
    if not request.tools or request.tool_choice == "none":
        return None
    if request.tool_choice.startswith("function:"):
        return request.tool_choice.removeprefix("function:")
    if request.tool_choice == "required" or directives.tool:
        return request.tools[0]
    return None


def usage_object(usage: Usage) -> dict[str, object]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_call(choice: Choice) -> dict[str, object]:
    return {
        "id": choice.tool_call_id,
        "type": "function",
        "function": {"name": choice.tool_name, "arguments": "{}"},
    }


def render_completion(
    reply: ChatReply, completion_id: str, created: int, request: ChatRequest
) -> bytes:
    """The non-streaming ``chat.completion`` body."""
    choices: list[dict[str, object]] = []
    for index, choice in enumerate(reply.choices):
        message: dict[str, object] = {"role": "assistant"}
        if choice.tool_name is not None:
            message["content"] = None
            message["tool_calls"] = [_tool_call(choice)]
        else:
            message["content"] = "".join(choice.words)
        message["refusal"] = None
        message["annotations"] = []
        choices.append(
            {
                "index": index,
                "message": message,
                "logprobs": None,
                "finish_reason": choice.finish_reason,
            }
        )
    return orjson.dumps(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": request.model,
            "choices": choices,
            "usage": usage_object(reply.usage),
            "service_tier": request.service_tier,
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
    )


def stream_events(
    reply: ChatReply, completion_id: str, created: int, request: ChatRequest
) -> Iterator[tuple[bytes, int]]:
    """Every SSE event of the stream, each with the completion tokens it delivers.

    Order: a role chunk per choice, the content chunks (one token each,
    choices interleaved), a finish chunk per choice, the usage chunk when
    ``include_usage`` is set, then ``[DONE]``.
    """
    head = (
        b"data: "
        + orjson.dumps(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": request.model,
                "service_tier": request.service_tier,
                "system_fingerprint": SYSTEM_FINGERPRINT,
            }
        )[:-1]
    )
    tail = b'],"usage":null}\n\n' if request.include_usage else b"]}\n\n"
    opens = [b'%s%s{"index":%d,"delta":' % (head, _OPEN_CHOICES, i) for i in range(request.n)]
    for index, choice in enumerate(reply.choices):
        yield opens[index] + _first_delta(choice) + _CHOICE_TAIL + tail, 0
    longest = max(len(choice.words) for choice in reply.choices)
    for position in range(longest):
        for index, choice in enumerate(reply.choices):
            if position < len(choice.words):
                word = orjson.dumps(choice.words[position])
                yield b'%s{"content":%s}%s%s' % (opens[index], word, _CHOICE_TAIL, tail), 1
    for index, choice in enumerate(reply.choices):
        if choice.tool_name is not None:
            arguments = b'{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}'
            yield opens[index] + arguments + _CHOICE_TAIL + tail, choice.tokens
    for index, choice in enumerate(reply.choices):
        finish = b'{},"logprobs":null,"finish_reason":"%s"}' % choice.finish_reason.encode()
        yield opens[index] + finish + tail, 0
    if request.include_usage:
        usage = orjson.dumps(usage_object(reply.usage))
        yield b'%s%s],"usage":%s}\n\n' % (head, _OPEN_CHOICES, usage), 0
    yield _DONE, 0


def _first_delta(choice: Choice) -> bytes:
    if choice.tool_name is None:
        return _ROLE_DELTA
    call = {
        "index": 0,
        "id": choice.tool_call_id,
        "type": "function",
        "function": {"name": choice.tool_name, "arguments": ""},
    }
    return orjson.dumps(
        {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None}
    )


_EXCERPT_RE: Final = re.compile(r"^\[(\d{1,2})\] ", re.MULTILINE)


def _citations(request: ChatRequest) -> list[str]:
    """``[sim:cite]``: `` [n]`` for each numbered excerpt the messages hold, in order."""
    found: dict[str, None] = {}
    for message in request.messages:
        for text in tokens.content_text(message.get("content"))[0]:
            found.update(dict.fromkeys(_EXCERPT_RE.findall(text)))
    return [f" [{n}]" for n in found]


def _echo_words(request: ChatRequest) -> list[str]:
    """``[sim:echo]``: the last message's text as stream tokens, whitespace kept, then
    `` [images: N]`` when it carried N image parts (so a test sees they arrived)."""
    text = strip_directives(tokens.last_message_text(request.messages))
    words = tokens.ECHO_TOKEN_RE.findall(text) or ["."]
    images = tokens.content_text(request.messages[-1].get("content"))[1]
    if images:
        words += tokens.ECHO_TOKEN_RE.findall(f" [images: {images}]")
    return words
