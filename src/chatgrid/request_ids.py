"""One id per request, from the first byte to every record it leaves behind.

A caller may send its own ``X-Request-Id`` (a load balancer's, a client's
trace id); a valid one is kept, anything else is replaced by ours. The id
goes back on every response, and is in every log line written while the
request is served, in the ledger row of every upstream call it made and
in every audit entry it wrote, so one id finds all of them.

It travels in a context variable: set once where a request comes in
(``chatgrid/app.py`` for the console, ``gateway/app.py`` for ``/v1``) and
read where the records are written; ``asyncio.to_thread`` and the console's
thread pool carry it into worker threads.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar
from typing import Final

#: Letters, digits and ``._:-`` only, at most 128: safe in a header, a log line and a column.
_VALID: Final = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")
MAX_LENGTH: Final = 128

CURRENT: ContextVar[str | None] = ContextVar("chatgrid_request_id", default=None)


def incoming(value: bytes | None) -> str | None:
    """The caller's own id when it is acceptable, else None (a new one is made)."""
    if value is not None and _VALID.fullmatch(value):
        return value.decode("ascii")
    return None


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


def current() -> str | None:
    """The id of the request being served here (None: background work)."""
    return CURRENT.get()
