"""What an upstream's non-200 answer means for the caller and for the ledger.

Pure: a status, the org's billing mode, the body and ``Retry-After`` in; the
ledger outcome and the error out. The relay does the I/O around it (reading
the body, flagging a rejected key, committing the entry, handing the error to
its sink). The error is always a typed one, so the workspace gets the same
exception a ``/v1`` client gets as JSON; when the upstream's own answer is
the caller's to read (``pass_through``), ``/v1`` sends that body unchanged.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from chatgrid.errors import (
    ChatGridError,
    InvalidRequest,
    RateLimited,
    UpstreamFailed,
    UpstreamKeyRejected,
)
from chatgrid.identity.models import BillingMode

#: The caller's own mistakes: the upstream's OpenAI-shaped error is passed on as it is.
PASS_THROUGH_STATUSES = frozenset({400, 404, 409, 413, 415, 422})
KEY_REJECTED = "upstream_key_rejected"


class Verdict(NamedTuple):
    outcome: str  # the ledger's
    error: ChatGridError
    pass_through: bool = False  # the upstream's body is the caller's own error, in OpenAI's shape


def judge_upstream_answer(
    status: int,
    mode: BillingMode,
    payload: bytes,
    retry_after: int | None,
    label: str = "OpenAI",
) -> Verdict:
    """What the ledger records and what the caller is told (``label``: the key's provider)."""
    if status in (401, 403):
        if mode is BillingMode.BYOK:
            return Verdict(
                KEY_REJECTED,
                UpstreamKeyRejected(
                    f"Your organization's {label} key was rejected by {label} — ask an admin "
                    "to reconnect it in ChatGrid."
                ),
            )
        return Verdict(
            KEY_REJECTED,
            UpstreamFailed(
                "the shared upstream key was rejected; the operator has been alerted",
                code="pool_key_rejected",
            ),
        )
    if status == 429:
        # A pooled key's 429 names the operator's OpenAI org: say it plainly instead.
        message = (mode is BillingMode.BYOK and upstream_message(payload)) or (
            "the upstream is rate limiting requests; retry after the indicated time"
        )
        return Verdict("upstream_rate_limited", RateLimited(message, retry_after=retry_after))
    if status in PASS_THROUGH_STATUSES:
        error = upstream_error(payload)
        if error is not None:
            message, code, param = error
            return Verdict(
                "upstream_rejected_request",
                InvalidRequest(message, code=code, param=param, status=status),
                pass_through=True,
            )
        return Verdict(
            "upstream_rejected_request",
            UpstreamFailed(
                f"the upstream refused the request (HTTP {status})",
                code="upstream_rejected_request",
                status=status,
            ),
        )
    if 300 <= status < 400:
        # An API does not redirect; following one would send the key and the prompt
        # elsewhere, so it is refused, and where it pointed is not repeated to the caller.
        return Verdict(
            "upstream_redirect",
            UpstreamFailed(
                f"the upstream answered with a redirect (HTTP {status}), which ChatGrid does "
                "not follow; check the key's base URL",
                code="upstream_redirect",
            ),
        )
    return Verdict(
        "upstream_error", UpstreamFailed(f"the upstream answered HTTP {status}; try again shortly")
    )


def parse_retry_after(value: str | None) -> int | None:
    """Whole seconds from a ``Retry-After`` header (an HTTP date is not used upstream)."""
    if value is None:
        return None
    try:
        return max(0, int(float(value)))
    except ValueError:
        return None


def upstream_message(payload: bytes) -> str | None:
    """The message of an OpenAI-shaped error body, if it is one."""
    error = upstream_error(payload)
    return None if error is None else error[0]


def upstream_error(payload: object) -> tuple[str, str | None, str | None] | None:
    """Message, code and param of an OpenAI-shaped error (a body, or a stream's chunk
    already read), if it is one."""
    try:
        data: Any = orjson.loads(payload) if isinstance(payload, bytes) else payload
        error = data["error"]
        message = error["message"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    if not isinstance(message, str):
        return None
    code, param = error.get("code"), error.get("param")
    return (
        message,
        code if isinstance(code, str) else None,
        param if isinstance(param, str) else None,
    )
