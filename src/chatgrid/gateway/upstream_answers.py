"""What an upstream's non-200 answer means for the caller and for the ledger.

Pure: a status, the org's billing mode, the body and ``Retry-After`` in; the
ledger outcome and the error to show out. The relay does the I/O around it
(reading the body, flagging a rejected key, committing the entry, sending).
"""

from __future__ import annotations

import orjson

from chatgrid.errors import ChatGridError, RateLimited, UpstreamFailed, UpstreamKeyRejected
from chatgrid.identity.models import BillingMode

#: The caller's own mistakes: the upstream's OpenAI-shaped error is passed on as it is.
PASS_THROUGH_STATUSES = frozenset({400, 404, 409, 413, 415, 422})
KEY_REJECTED = "upstream_key_rejected"


def judge_upstream_answer(
    status: int, mode: BillingMode, payload: bytes, retry_after: int | None
) -> tuple[str, ChatGridError | None]:
    """The ledger outcome, and the error to send (None: pass the upstream's own error on)."""
    if status in (401, 403):
        if mode is BillingMode.BYOK:
            return KEY_REJECTED, UpstreamKeyRejected(
                "Your organization's OpenAI key was rejected by OpenAI — ask an admin "
                "to reconnect it in ChatGrid."
            )
        return KEY_REJECTED, UpstreamFailed(
            "the shared upstream key was rejected; the operator has been alerted",
            code="pool_key_rejected",
        )
    if status == 429:
        # A pooled key's 429 names the operator's OpenAI org: say it plainly instead.
        message = (mode is BillingMode.BYOK and upstream_message(payload)) or (
            "the upstream is rate limiting requests; retry after the indicated time"
        )
        return "upstream_rate_limited", RateLimited(message, retry_after=retry_after)
    if status in PASS_THROUGH_STATUSES:
        if upstream_message(payload) is not None:
            return "upstream_rejected_request", None
        return "upstream_rejected_request", UpstreamFailed(
            f"the upstream refused the request (HTTP {status})",
            code="upstream_rejected_request",
            status=status,
        )
    if 300 <= status < 400:
        # An API does not redirect; following one would send the key and the prompt
        # elsewhere, so it is refused, and where it pointed is not repeated to the caller.
        return "upstream_redirect", UpstreamFailed(
            f"the upstream answered with a redirect (HTTP {status}), which ChatGrid does "
            "not follow; check the key's base URL",
            code="upstream_redirect",
        )
    return "upstream_error", UpstreamFailed(
        f"the upstream answered HTTP {status}; try again shortly"
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
    try:
        data = orjson.loads(payload)
        message = data["error"]["message"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return message if isinstance(message, str) else None
