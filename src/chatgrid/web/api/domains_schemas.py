"""Bodies of verified email domains, each beside its converter."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from chatgrid.identity.domains import EmailDomain
from chatgrid.web.api.schemas import Strict


class DomainCreate(Strict):
    domain: str = Field(
        max_length=1000, description="The domain to claim, e.g. example.com (IDN welcome)."
    )


class DnsRecordPublic(BaseModel):
    type: Literal["TXT"]
    name: str = Field(description="Where to publish it, e.g. _chatgrid-challenge.example.com.")
    value: str = Field(description="What to publish there, exactly.")


class DomainPublic(BaseModel):
    id: str
    domain: str = Field(description="ASCII (punycode), lower case, no trailing dot.")
    display_name: str = Field(description="The Unicode spelling, for showing.")
    status: Literal["pending", "verified"]
    record: DnsRecordPublic
    created_at: datetime
    verified_at: datetime | None


def domain_public(claim: EmailDomain) -> DomainPublic:
    return DomainPublic(
        id=claim.id,
        domain=claim.domain,
        display_name=claim.display_name,
        status="verified" if claim.verified else "pending",
        record=DnsRecordPublic(type="TXT", name=claim.record_name, value=claim.record_value),
        created_at=claim.created_at,
        verified_at=claim.verified_at,
    )
