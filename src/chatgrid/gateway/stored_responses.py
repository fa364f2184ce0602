"""Retrieve and delete a stored response: ``GET``/``DELETE /v1/responses/{id}``.

The upstream keeps the response under the key that created it, so the call
passes through to the org's own keys (OpenAI-compatible ones and Azure's, in
the route's order) until one knows the id. An Azure resource keeps them on its
v1 surface, ``{endpoint}/openai/v1/responses/{id}``, with no ``api-version``.
These calls are free and make no ledger entry. Shared credits refuse them: a
pooled key's stored responses belong to every org it serves, so no org may
read them by id.
"""

from __future__ import annotations

import re

import aiohttp

from chatgrid.errors import InvalidRequest, NotFound
from chatgrid.gateway.directory import OrgRoute
from chatgrid.gateway.http import JSON_HEADERS, Send, send_bytes
from chatgrid.identity.models import BillingMode
from chatgrid.providers.azure import v1_base
from chatgrid.providers.base import Provider, UpstreamTarget

_PATH = re.compile(r"^/v1/responses/(resp_[A-Za-z0-9_-]{1,200})(/input_items)?$")
_UPSTREAM_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)


def stored_response_path(path: str, method: str) -> str:
    """The part after ``/v1`` to pass on, or the refusal of a malformed path or method."""
    found = _PATH.match(path)
    if found is None:
        raise NotFound(f"Unknown request URL: {method} {path}.", code="unknown_url")
    if method != "GET" and not (method == "DELETE" and found.group(2) is None):
        raise InvalidRequest(
            f"Method {method} is not allowed for {path}.", code="method_not_allowed", status=405
        )
    return path.removeprefix("/v1")


def stored_responses_refused(param: str | None = None) -> InvalidRequest:
    """Shared credits never reach a stored response: on a pooled key it would belong to
    every org the key serves (and continuing one could not be bounded before the call)."""
    return InvalidRequest(
        "Stored responses can be retrieved, deleted or continued only through your "
        "organization's own key; on shared credits, send the conversation again instead.",
        param=param,
        code="stored_responses_unavailable",
    )


async def relay_stored_response(
    session: aiohttp.ClientSession,
    route: OrgRoute,
    method: str,
    tail: str,
    query: bytes,
    send: Send,
    request_id: str,
) -> int:
    """Pass the lookup to the org's keys until one answers other than 404; its status."""
    if route.mode is not BillingMode.BYOK:
        raise stored_responses_refused()
    keys = [k for k in (route.keys or (route,)) if k.problem is None and k.target is not None]
    bases = [(k.target, base) for k in keys if k.target and (base := _base(k.target))]
    headers = [*JSON_HEADERS, (b"x-request-id", request_id.encode())]
    status, body = 404, b""
    for target, base in bases:
        url = base + tail + ("?" + query.decode("latin-1") if query else "")
        try:
            async with session.request(
                method, url, headers=target.headers, allow_redirects=False
            ) as response:
                status, body = response.status, await response.read()
        except _UPSTREAM_ERRORS:
            continue
        if status != 404:
            break
    if not body:
        raise NotFound(f"Response with id '{tail.split('/')[2]}' not found.", param="response_id")
    await send_bytes(send, status, body, headers)
    return status


def _base(target: UpstreamTarget) -> str | None:
    """The URL a key's ``/responses/{id}`` hangs from (None: the key keeps no responses)."""
    if target.provider is Provider.AZURE:
        return v1_base(target)
    chat = target.chat_url("")
    if target.provider is Provider.ANTHROPIC or not chat or "/chat/completions" not in chat:
        return None
    return chat.partition("/chat/completions")[0]
