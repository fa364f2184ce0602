"""Check and prepare ``POST /v1/responses`` bodies (pure: bytes in, bytes out).

As for chat, the gateway checks only what it relies on: the model, ``input``
(a string or an array of items), ``stream`` and ``max_output_tokens`` (the
bound of the call's reservation). Tools, reasoning options and text formats
are the upstream's to judge.

On Azure the body names the model's deployment instead (``azure_body``), the
one rewrite an upstream makes the gateway do per key: the relay asks for it
on Azure keys only, so OpenAI calls send the prepared bytes as they are.
"""

from __future__ import annotations

from typing import Any

from chatgrid.errors import InvalidRequest
from chatgrid.gateway.bodies import PreparedCall, _dump, _load_object, _model, _positive_int
from chatgrid.providers.azure import deployment_of
from chatgrid.providers.base import UpstreamTarget


def prepare_responses(raw: bytes, user_tag: str) -> PreparedCall:
    return responses_call(_load_object(raw), user_tag)


def responses_call(data: dict[str, Any], user_tag: str) -> PreparedCall:
    """Check a Responses request read as an object (``data`` is updated in place)."""
    model = _model(data)
    value = data.get("input")
    if isinstance(value, str):
        valid = True
    elif isinstance(value, list):
        valid = all(isinstance(item, dict) for item in value)
    else:
        valid = value is None and isinstance(data.get("previous_response_id"), str)
    if not valid:
        raise InvalidRequest("input must be a string or an array of input items", param="input")
    stream = data.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise InvalidRequest("stream must be a boolean", param="stream")
    _positive_int(data, "max_output_tokens", 10_000_000)
    data["user"] = user_tag
    # The final event carries the usage, so it is always relayed: nothing to hide.
    return PreparedCall("responses", model, bool(stream), True, _dump(data), data)


def azure_body(target: UpstreamTarget, prepared: PreparedCall) -> bytes:
    """The body an Azure key takes: a Responses call's ``model`` is the deployment's name
    (Azure's v1 surface has no deployment in the path); other calls as prepared."""
    if prepared.endpoint != "responses":
        return prepared.upstream_body
    deployment = deployment_of(target, prepared.model)
    if deployment is None:  # admission found no URL for it: never sent
        return prepared.upstream_body
    return _dump({**prepared.request, "model": deployment})
