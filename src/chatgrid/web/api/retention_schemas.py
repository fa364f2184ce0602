"""Bodies of an org's retention periods: a whole number of days, or "forever"."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from chatgrid.governance.retention import DataKind
from chatgrid.web.api.schemas import Strict

Period = int | Literal["forever"]


class RetentionSet(Strict):
    conversations: Period | None = Field(
        default=None,
        description='Days a conversation is kept after its last activity, or "forever"; '
        "omitted: unchanged.",
    )
    documents: Period | None = Field(
        default=None,
        description="Days an uploaded document (and its chunks, vectors and keyword rows) is "
        'kept, or "forever"; omitted: unchanged.',
    )
    audit: Period | None = Field(
        default=None,
        description='Days an audit log entry is kept, or "forever"; omitted: unchanged.',
    )

    def periods(self) -> dict[DataKind, str | int | None]:
        """The periods given (a kind left out stays as it was)."""
        given: dict[DataKind, str | int | None] = {
            DataKind.CONVERSATIONS: self.conversations,
            DataKind.DOCUMENTS: self.documents,
            DataKind.AUDIT: self.audit,
        }
        return {kind: value for kind, value in given.items() if value is not None}


class OrgPeriods(BaseModel):
    conversations: Period
    documents: Period
    audit: Period


class Periods(OrgPeriods):
    ledger: Period = Field(description="The ledger's legal period (the operator's).")


class RetentionPublic(BaseModel):
    org_id: str
    org: OrgPeriods = Field(description="The periods the org set (1 to 36,500 days, or forever).")
    instance: Periods = Field(description="The operator's ceiling on every org's periods.")
    effective: Periods = Field(
        description="What the org keeps: the shorter of its own and the instance's."
    )


def retention_public(shown: dict[str, Any]) -> RetentionPublic:
    return RetentionPublic.model_validate(shown)
