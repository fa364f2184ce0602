"""Bodies of monthly budgets, beside their converter, and the two inputs a form shares with them.

``limit_micros`` and ``subject_ref`` read what the console's form and the API
both take, so a typed amount or name is refused the same way at either door.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from chatgrid.admin.budgets import BudgetView
from chatgrid.web.api.schemas import Strict

#: Longer than any amount a budget allows ($1,000,000,000 with 6 decimals), short of abuse.
MAX_USD_LENGTH = 40
#: An email address's longest form; a team's name is at most 100 characters.
MAX_SUBJECT_LENGTH = 320


class BudgetSet(Strict):
    scope: Literal["org", "team", "member"] = Field(
        description="Whom the budget covers: the whole org, one team or one member."
    )
    subject: str | None = Field(
        default=None,
        max_length=MAX_SUBJECT_LENGTH,
        description="For a team its id or name, for a member their email (or member id); "
        "ignored for the org. An unknown one is a 404 (`team_not_found`, `member_not_found`).",
    )
    usd: str = Field(
        max_length=MAX_USD_LENGTH,
        examples=["25", "0.50"],
        description='The monthly limit in dollars as a decimal string ("25", "0.50"): '
        "$0 to $1,000,000,000 with at most 6 decimals, never a JSON number (no rounding).",
    )
    enforcement: Literal["hard", "soft"] = Field(
        default="hard",
        description="`hard` refuses a call that could pass the budget; `soft` only alerts.",
    )
    thresholds: list[int] | None = Field(
        default=None,
        max_length=100,
        description="Percentages of the limit that alert, 1 to 1000, at most 10 different "
        "ones; omitted or null: [50, 80, 100]; []: the budget never alerts.",
    )


class BudgetPublic(BaseModel):
    id: str = Field(description="Stable while the budget exists; setting it again keeps it.")
    scope: Literal["org", "team", "member"]
    subject_id: str = Field(description="The org's, the team's or the member's id.")
    subject: str = Field(description="The org's name, the team's name or the member's email.")
    limit_usd: str = Field(description='The monthly limit in dollars, exact ("0.500000").')
    limit_micros: int = Field(description="The monthly limit in micro-dollars.")
    enforcement: Literal["hard", "soft"]
    thresholds: list[int] = Field(description="Percentages that alert (empty: never).")
    month: str = Field(description="The month the spend is of, YYYY-MM (UTC).")
    spent_usd: str = Field(description="What the org paid for the calls under it this month.")
    spent_micros: int
    remaining_usd: str = Field(description="What is left this month (never below 0).")
    percent: int = Field(description="Spent as a whole percentage of the limit (can pass 100).")
    updated_at: datetime
    updated_by: str | None = Field(description="The email (or `cli`) that last set it.")


def budget_public(view: BudgetView) -> BudgetPublic:
    return BudgetPublic.model_validate(view.public())
