"""Which key a request presents, and whether the simulator accepts it.

OpenAI accepts ``Authorization: Bearer``; Azure accepts ``api-key`` and, for
Entra-style clients, Bearer too. A key is good when it looks like an OpenAI
key (``sk-`` and at least eight more of ``[A-Za-z0-9_-]``) and has not been
revoked through the control API, which is how tests simulate a key deleted
at OpenAI.
"""

from __future__ import annotations

import re
from typing import Final

from chatgrid.simulator import errors

KEY_RE: Final = re.compile(r"sk-[A-Za-z0-9_\-]{8,}")


def bearer_key(authorization: bytes | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(b" ")
    if scheme.lower() != b"bearer":
        return None
    return token.strip().decode("latin-1")


def check_key(key: str | None, revoked: set[str], azure: bool) -> None:
    """Raise the 401 the real service would send for this key, if any."""
    if key is not None and KEY_RE.fullmatch(key) and key not in revoked:
        return
    if azure:
        raise errors.azure_access_denied()
    if not key:
        raise errors.missing_api_key()
    raise errors.incorrect_api_key(key)
