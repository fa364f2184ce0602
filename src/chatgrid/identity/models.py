"""Plain records for the identity domain, free of SQL and HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class BillingMode(StrEnum):
    BYOK = "byok"
    SHARED = "shared"


class OrgStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    billing_mode: BillingMode
    status: OrgStatus
    markup_bps: int | None
    created_at: datetime


@dataclass(frozen=True)
class Member:
    id: str
    org_id: str
    user_id: str
    email: str
    role: Role
    status: str
    created_at: datetime


@dataclass(frozen=True)
class ApiToken:
    id: str
    org_id: str
    member_id: str
    prefix: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
