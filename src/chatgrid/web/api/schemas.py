"""What every body of the admin API builds on: the strict request base, a day, the error body.

The API's bodies live beside the routes that use them: ``orgs.py`` reads and
answers with ``orgs_schemas.py``, ``tokens.py`` with ``tokens_schemas.py``,
and so on. In each ``…_schemas`` module, ``…Create`` / ``…Update`` are what a
caller sends (all derive from ``Strict``) and ``…Public`` is what comes back,
with the function that builds it from a domain value (``token_public``)
directly under it, so a field is added in one place. No response model has a
field for a key, a password or a token hash; the only secrets ever returned
are a new token (``TokenCreated.secret``) and an invitation link
(``InvitationCreated.url``), each once, and Stripe's client secret of a card
setup (``CardSetupPublic``), which only lets a browser hand one card to Stripe.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from chatgrid.admin import dates
from chatgrid.errors import InvalidRequest


class Strict(BaseModel):
    """What a caller sends: no unknown fields, and no coercion between JSON types.

    Lax pydantic reads ``true`` as the integer 1 and ``"yes"`` or ``1`` as a
    boolean, so ``{"expires_in_days": true}`` made a one-day token. Strict
    mode takes a JSON number for an int and a JSON boolean for a bool, nothing
    else. Enum fields opt back into lax mode (``Field(strict=False)``) because
    strict mode wants the Python member, never its JSON value; a date field
    uses ``IsoDay``.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


def _iso_day(value: object) -> date:
    """A JSON ``YYYY-MM-DD`` string (strict mode alone would refuse every string)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # built in Python, not read from JSON
    try:
        day = dates.parse_day(value, "date") if isinstance(value, str) else None
    except InvalidRequest:
        day = None
    if day is None:
        raise PydanticCustomError("date_format", f"Input should be {dates.DAY_HINT}")
    return day


#: A day in a request body: ``YYYY-MM-DD`` and nothing else (not a number of seconds).
IsoDay = Annotated[date, BeforeValidator(_iso_day)]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(BaseModel):
    error: ErrorDetail
