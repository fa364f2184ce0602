"""``/v1/responses``: create, retrieve and delete, replying as the chat simulation would.

A Responses request is turned into the chat messages it stands for
(``instructions`` first, then the stored conversation of
``previous_response_id``, then ``input``) and planned by ``chat.plan_reply``,
so the same rules decide the words, the tool call and the token counts on
both APIs: ``input_tokens`` follows the chat prompt rule over those messages,
``output_tokens`` the reply length. Responses are kept in memory (the newest
10,000) unless the request says ``store: false``, as OpenAI keeps them.
Azure's v1 surface (``/openai/v1/responses``) is the same API with a
deployment name as ``model``: the reply names the deployment's model.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator
from random import getrandbits
from typing import Final

import orjson

from chatgrid.simulator import errors, params
from chatgrid.simulator.catalogue import CHAT_MODELS, MODEL_IDS
from chatgrid.simulator.chat import ChatReply, Choice, plan_reply
from chatgrid.simulator.chat_request import ChatRequest
from chatgrid.simulator.directives import Directives
from chatgrid.simulator.records import RequestRecord, Usage
from chatgrid.simulator.responses_input import (
    assistant_message,
    echoed_tools,
    input_messages,
    tool_choice,
    tools,
)
from chatgrid.simulator.responses_items import input_items, item_list
from chatgrid.simulator.responses_stream import response_events
from chatgrid.simulator.tokens import last_message_text
from chatgrid.simulator.wire import JSON_TYPE

MAX_STORED: Final = 10_000
MIN_OUTPUT_TOKENS: Final = 16
_TEXT_FORMATS: Final = ("text", "json_object", "json_schema")

Message = dict[str, object]


class StoredResponse:
    __slots__ = ("body", "items", "messages")

    def __init__(
        self, body: dict[str, object], messages: list[Message], items: list[Message]
    ) -> None:
        self.body = body
        #: The conversation so far in chat form, this response's output included.
        self.messages = messages
        #: This request's ``input`` as items with ids (``/input_items``).
        self.items = items


class ResponseStore:
    """Stored responses by id, the oldest dropped past ``MAX_STORED``."""

    def __init__(self) -> None:
        self._stored: OrderedDict[str, StoredResponse] = OrderedDict()

    def put(self, response_id: str, stored: StoredResponse) -> None:
        self._stored[response_id] = stored
        if len(self._stored) > MAX_STORED:
            self._stored.popitem(last=False)

    def get(self, response_id: str) -> StoredResponse | None:
        return self._stored.get(response_id)

    def delete(self, response_id: str) -> bool:
        return self._stored.pop(response_id, None) is not None

    def clear(self) -> None:
        self._stored.clear()


class CreateResponse:
    """A valid ``POST /v1/responses``; ``reply`` / ``events`` answer it (and store it)."""

    def __init__(self, body: dict[str, object], chat: ChatRequest, store: ResponseStore) -> None:
        self.body = body
        self.chat = chat
        self.model = chat.model
        self.stream = chat.stream
        self.store = store
        #: The messages ``input`` added (without ``instructions``), for the stored conversation.
        self.history: list[Message] = []

    def directive_text(self) -> str:
        return last_message_text(self.chat.messages)

    def plan(
        self, directives: Directives, record: RequestRecord
    ) -> tuple[dict[str, object], Choice]:
        """The final response object and its one choice; stored unless ``store`` is false."""
        reply = plan_reply(self.chat, directives)
        record.usage = reply.usage
        choice = reply.choices[0]
        response = response_object(self.body, self.chat, reply)
        if self.body.get("store") is not False:
            conversation = [*self.history, assistant_message(choice)]
            items = input_items(self.body.get("input"))
            self.store.put(str(response["id"]), StoredResponse(response, conversation, items))
        return response, choice

    def reply(
        self, directives: Directives, record: RequestRecord
    ) -> tuple[bytes, tuple[bytes, bytes]]:
        response, choice = self.plan(directives, record)
        record.completion_tokens_sent = choice.tokens
        return orjson.dumps(response), JSON_TYPE

    def events(
        self, directives: Directives, record: RequestRecord
    ) -> tuple[Iterator[tuple[bytes, int]], int]:
        response, choice = self.plan(directives, record)
        return response_events(response, choice)


class ResponseLookup:
    """``GET`` or ``DELETE /v1/responses/{id}``, or ``GET .../{id}/input_items?{query}``."""

    model = ""
    stream = False

    def __init__(
        self, method: str, response_id: str, store: ResponseStore, items_query: bytes | None
    ) -> None:
        self.method = method
        self.response_id = response_id
        self.store = store
        self.items_query = items_query

    def directive_text(self) -> str:
        return ""

    def reply(
        self, directives: Directives, record: RequestRecord
    ) -> tuple[bytes, tuple[bytes, bytes]]:
        if self.method == "DELETE":
            if not self.store.delete(self.response_id):
                raise response_not_found(self.response_id)
            deleted = {"id": self.response_id, "object": "response", "deleted": True}
            return orjson.dumps(deleted), JSON_TYPE
        stored = self.store.get(self.response_id)
        if stored is None:
            raise response_not_found(self.response_id)
        if self.items_query is not None:
            return orjson.dumps(item_list(stored.items, self.items_query)), JSON_TYPE
        return orjson.dumps(stored.body), JSON_TYPE

    def events(
        self, directives: Directives, record: RequestRecord
    ) -> tuple[Iterator[tuple[bytes, int]], int]:
        raise NotImplementedError


def response_not_found(response_id: str) -> errors.ApiError:
    return errors.ApiError(404, f"Response with id '{response_id}' not found.")


def parse_lookup(
    method: str, response_id: str, store: ResponseStore, items_query: bytes | None = None
) -> ResponseLookup:
    """``items_query`` (the query string, maybe empty) when the input items are asked for."""
    return ResponseLookup(method, response_id, store, items_query)


def parse_create(
    body: object, store: ResponseStore, deployment_model: str | None = None
) -> CreateResponse:
    """``deployment_model``: on Azure, the model of the deployment ``model`` names."""
    if not isinstance(body, dict):
        raise errors.invalid_type("body", "an object", body)
    model = _model(deployment_model or body.get("model"))
    previous = body.get("previous_response_id")
    history: list[Message] = []
    if previous is not None:
        if not isinstance(previous, str):
            raise errors.invalid_type("previous_response_id", "a string", previous)
        stored = store.get(previous)
        if stored is None:
            raise errors.invalid_request(
                f"Previous response with id '{previous}' not found.",
                "previous_response_id",
                "previous_response_not_found",
            )
        history = list(stored.messages)
    raw_input = body.get("input")
    if raw_input is None and previous is None:
        raise errors.missing_parameter("input")
    history += input_messages(raw_input) if raw_input is not None else []
    if not history:
        raise params.empty_array("input")
    instructions = body.get("instructions")
    lead: list[Message] = []
    if instructions is not None:
        if not isinstance(instructions, str):
            raise errors.invalid_type("instructions", "a string", instructions)
        lead = [{"role": "developer", "content": instructions}]
    chat = ChatRequest(model, lead + history)
    chat.cap = params.integer(body, "max_output_tokens", MIN_OUTPUT_TOKENS, None)
    params.number(body, "temperature", 2)
    params.number(body, "top_p", 1)
    chat.stream = params.boolean(body, "stream")
    params.boolean(body, "store")
    chat.tools = tools(body.get("tools"))
    chat.tool_choice = tool_choice(body.get("tool_choice"), chat.tools)
    chat.json_mode = _json_mode(body.get("text"))
    request = CreateResponse(body, chat, store)
    request.history = history
    return request


def _model(model: object) -> str:
    if model is None:
        raise errors.missing_parameter("model")
    if not isinstance(model, str):
        raise errors.invalid_type("model", "a string", model)
    if model not in CHAT_MODELS:
        if model in MODEL_IDS:
            raise errors.invalid_request(
                f"The requested model '{model}' is not supported with the Responses API.",
                "model",
                "unsupported_model",
            )
        raise errors.model_not_found(model)
    return model


def _json_mode(text: object) -> bool:
    if text is None:
        return False
    if not isinstance(text, dict):
        raise errors.invalid_type("text", "an object", text)
    text_format = text.get("format")
    if text_format is None:
        return False
    kind = text_format.get("type") if isinstance(text_format, dict) else None
    if not isinstance(kind, str) or kind not in _TEXT_FORMATS:
        raise errors.invalid_value("text.format.type", kind, _TEXT_FORMATS)
    return kind != "text"


def usage_object(usage: Usage) -> dict[str, object]:
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens, "cache_write_tokens": 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.total_tokens,
    }


def output_item(choice: Choice, status: str) -> dict[str, object]:
    """The message or function_call item of a reply (a call's id follows its call id)."""
    if choice.tool_name is not None:
        return {
            "type": "function_call",
            "id": "fc_" + choice.tool_call_id.removeprefix("call_"),
            "call_id": choice.tool_call_id,
            "name": choice.tool_name,
            "arguments": "{}",
            "status": status,
        }
    text = {"type": "output_text", "text": "".join(choice.words), "annotations": [], "logprobs": []}
    return {
        "type": "message",
        "id": f"msg_{getrandbits(192):048x}",
        "status": status,
        "role": "assistant",
        "content": [text],
    }


def response_object(
    body: dict[str, object], chat: ChatRequest, reply: ChatReply
) -> dict[str, object]:
    """The final ``response`` object, as create, retrieve and ``response.completed`` show it."""
    choice = reply.choices[0]
    incomplete = choice.finish_reason == "length"
    status = "incomplete" if incomplete else "completed"
    now = int(time.time())
    response: dict[str, object] = {
        "id": f"resp_{getrandbits(192):048x}",
        "object": "response",
        "created_at": now,
        "status": status,
        "background": False,
        "completed_at": None if incomplete else now,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": chat.cap,
        "model": chat.model,
        "output": [output_item(choice, status)],
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": echoed_tools(body.get("tools")),
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": usage_object(reply.usage),
        "metadata": body.get("metadata") or {},
    }
    if isinstance(body.get("user"), str):
        response["user"] = body["user"]
    return response
