"""Query parameters the API reads itself, so each is taken in one published shape, everywhere.

FastAPI's own reading is lax: an ``int`` takes ``5.0``, `` 5``, ``+5`` and
``1_000``, pydantic's ``date`` takes ``86400`` as a Unix time, and a
parameter given twice silently becomes its last value. These read the raw
text against one shape, say so in the OpenAPI document, and refuse anything
else with the API's 400 (``invalid_value``, naming the parameter).
"""

import re
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import WithJsonSchema
from starlette.requests import Request

from chatgrid.admin import dates, reports
from chatgrid.errors import InvalidRequest

#: Read by ``dates.parse_day``, not pydantic (which takes ``86400`` for a Unix time).
Day = Annotated[
    str | None,
    Query(description="YYYY-MM-DD (UTC); both ends included"),
    WithJsonSchema({"type": "string", "format": "date"}),
]

#: Read by ``dates.parse_moment``, not pydantic (which takes ``0.5`` for a Unix time);
#: the schema publishes the one shape that parser accepts.
Moment = Annotated[
    str | None,
    Query(description=f"ISO 8601, {dates.MOMENT_HINT}; UTC when no offset is given."),
    WithJsonSchema({"type": "string", "pattern": dates.MOMENT_PATTERN}),
]

#: A positive whole number as JSON writes it: no sign, point, exponent, spaces or leading zero.
_WHOLE = re.compile(r"[1-9][0-9]*")


def parse_limit(text: str, *, repeated: bool = False) -> int:
    """How many rows a listing returns: ``?limit=`` given once, 1 to ``MAX_ROWS``."""
    if (
        repeated
        or not _WHOLE.fullmatch(text)
        or len(text) > len(str(reports.MAX_ROWS))
        or int(text) > reports.MAX_ROWS
    ):
        raise InvalidRequest(
            f"limit is one whole number from 1 to {reports.MAX_ROWS}",
            param="limit",
            code="invalid_value",
        )
    return int(text)


def row_limit(default: int) -> Any:
    """A listing's ``limit`` parameter (``limit: Annotated[int, row_limit(500)]``).

    This module does without ``from __future__ import annotations``: FastAPI
    reads ``read_limit``'s annotation, which names this call's ``default``.
    """

    def read_limit(
        request: Request,
        limit: Annotated[
            str | None,
            Query(description=f"How many rows, 1 to {reports.MAX_ROWS}; {default} when omitted."),
            WithJsonSchema({"type": "integer", "minimum": 1, "maximum": reports.MAX_ROWS}),
        ] = None,
    ) -> int:
        if limit is None:
            return default
        return parse_limit(limit, repeated=len(request.query_params.getlist("limit")) > 1)

    return Depends(read_limit)
