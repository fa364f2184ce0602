"""Chat completions for a Claude model: the relay's Anthropic hooks (pure around the I/O).

Admission plans a Claude call like any other, then :func:`translated_call`
swaps the upstream body for its Messages form (the OpenAI body stays the
call's ``request``: the reservation and a cut stream's estimate read it).
The relay (``gateway/relay.py``) keeps its one order of events — upstream
answer, ledger entry committed, then the client's last byte — and asks this
module only how to read what Anthropic sent:

* a whole answer: :func:`whole_answer` (the chat.completion and its usage);
* a stream: :func:`stream_tracker` (``providers.anthropic_stream``, the
  same surface as ``gateway.sse.StreamTracker``);
* an error: :func:`error_payload` (OpenAI's shape, judged as OpenAI's are).
"""

from __future__ import annotations

import time
from dataclasses import replace

import orjson

from chatgrid.errors import InvalidRequest
from chatgrid.gateway.bodies import PreparedCall
from chatgrid.gateway.messages_api import MessagesStream, message_usage
from chatgrid.ledger.pricing import Usage
from chatgrid.providers import UpstreamTarget
from chatgrid.providers.anthropic_answer import translate_answer
from chatgrid.providers.anthropic_errors import openai_error_payload
from chatgrid.providers.anthropic_stream import AnthropicStream
from chatgrid.providers.anthropic_translate import anthropic_request
from chatgrid.providers.base import Provider

#: Each endpoint's URL as the client called it, to name it in a refusal.
_CLIENT_PATHS = {
    "embeddings": "/v1/embeddings",
    "responses": "/v1/responses",
    "moderations": "/v1/moderations",
    "images": "/v1/images/generations",
    "transcriptions": "/v1/audio/transcriptions",
    "speech": "/v1/audio/speech",
}


def endpoint_not_supported(model: str, endpoint: str, kind: str = "") -> InvalidRequest:
    """A 400 naming the URL the model cannot answer (``kind``: what the model is, if known).

    Not ``model_not_found`` or ``model_not_deployed``: the model exists and the
    org's key serves it, only not on this endpoint."""
    path = _CLIENT_PATHS.get(endpoint, f"/v1/{endpoint}")
    message = f"{model} does not support {path}"
    if kind:
        message += f": it is {kind} answers only /v1/chat/completions and /v1/messages"
    return InvalidRequest(message + ".", param="model", code="model_not_supported")


def translating(target: UpstreamTarget, prepared: PreparedCall) -> bool:
    """Whether a call to ``target`` goes as a translated chat completion."""
    return target.provider is Provider.ANTHROPIC and prepared.endpoint == "chat"


def for_anthropic(target: UpstreamTarget, prepared: PreparedCall) -> PreparedCall:
    """The call as it goes to Anthropic: a chat completion in Messages form, a native
    Messages call as it is; raises what Claude cannot do (and a native Messages call
    for a model no Anthropic key serves)."""
    endpoint: str = prepared.endpoint
    if target.provider is not Provider.ANTHROPIC:
        if endpoint != "messages":
            return prepared
        raise InvalidRequest(
            f"model: '{prepared.model}' is not a Claude model served by an Anthropic key; "
            "/v1/messages relays Claude models only.",
            param="model",
            code="model_not_supported",
        )
    if endpoint == "messages":
        return prepared
    if endpoint != "chat":
        raise endpoint_not_supported(prepared.model, endpoint, "a Claude model, which")
    request = prepared.request
    body = anthropic_request({k: v for k, v in request.items() if k != "stream_options"})
    return replace(prepared, upstream_body=orjson.dumps(body))


def whole_answer(prepared: PreparedCall, payload: bytes) -> tuple[bytes, Usage | None]:
    """A Messages 200 body as the client gets it (a chat.completion, or on ``/v1/messages``
    as it came), and its usage.

    A body that is not a Message goes back as it came, with no usage (the
    relay records ``ok_no_usage`` as it does for OpenAI)."""
    if prepared.endpoint == "messages":
        return payload, message_usage(payload)
    answer = translate_answer(payload, created=int(time.time()))
    if answer is None:
        return payload, None
    usage = answer.usage.ledger_usage() if answer.usage is not None else None
    return answer.body, usage


def stream_tracker(prepared: PreparedCall) -> AnthropicStream | MessagesStream:
    """The translator (chat completions), or the pass-through reading usage (native)."""
    if prepared.endpoint == "messages":
        return MessagesStream()
    return AnthropicStream(
        forward_usage=prepared.client_wants_usage,
        created=int(time.time()),
        model=prepared.model,
    )


def error_payload(payload: bytes) -> bytes:
    """Anthropic's error body in OpenAI's shape, for ``judge_upstream_answer``."""
    return openai_error_payload(payload)
