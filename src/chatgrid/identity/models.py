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
    """An org as its one row says: every reader gets all of it, from one query."""

    id: str
    name: str
    billing_mode: BillingMode
    status: OrgStatus
    markup_bps: int | None
    created_at: datetime
    # Whether the operator lets the org use shared credits (pooled keys).
    shared_allowed: bool
    # The trial's end; None for an org made without one (billed on the default plan).
    trial_ends_at: datetime | None
    # The paid plan; None while on the trial or the default plan.
    plan_id: str | None
    # Why the operator suspended it (None unless suspended).
    suspended_reason: str | None
    # Whether its password users must sign in in two steps (``org_second_factor_rules``,
    # joined into the same read: the console checks it on every request).
    requires_two_step: bool = False


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
