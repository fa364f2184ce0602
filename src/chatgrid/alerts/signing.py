"""The webhook signature: HMAC-SHA256 over the timestamp and the raw body.

``X-ChatGrid-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``.
The timestamp is inside the signed bytes, so a captured delivery replayed
later fails a receiver that checks it is recent (``TOLERANCE_SECONDS``).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-ChatGrid-Signature"
#: How old a signature a receiver should accept (docs/alerts.md uses the same).
TOLERANCE_SECONDS = 300


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign_body(secret: str, body: bytes, timestamp: int) -> str:
    """The header's value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str,
    body: bytes,
    header: str,
    *,
    now: int,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` at most ``tolerance`` seconds from ``now``.

    Every ``v1=`` value is tried (several may come while a secret is rolled);
    the comparison takes constant time.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, c) for c in candidates)
