"""People who sign in to the console, and the orgs they belong to (plain values)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from chatgrid.errors import InvalidRequest
from chatgrid.identity.models import BillingMode, Role

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
MAX_EMAIL_LENGTH = 320
MAX_ORG_NAME_LENGTH = 100


@dataclass(frozen=True)
class User:
    id: str
    email: str
    is_operator: bool
    has_password: bool
    created_at: datetime
    password_changed_at: datetime | None


@dataclass(frozen=True)
class Membership:
    """One org a user belongs to, as the user sees it."""

    member_id: str
    org_id: str
    org_name: str
    role: Role
    billing_mode: BillingMode


def has_control_characters(text: str) -> bool:
    """Control characters (NUL above all) have no place in names, ids or addresses."""
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def without_control_characters(text: str) -> str:
    return "".join(ch for ch in text if not (ord(ch) < 32 or ord(ch) == 127))


def normalize_email(email: str) -> str:
    """The one spelling of an address that accounts are keyed by (trimmed, lowercase)."""
    cleaned = email.strip().lower()
    bad = has_control_characters(cleaned)
    if bad or len(cleaned) > MAX_EMAIL_LENGTH or not _EMAIL.match(cleaned):
        raise InvalidRequest("enter an email address like name@example.com", param="email")
    return cleaned


def check_org_name(name: str) -> str:
    """An org name: 1–100 characters, never shaped like an org id.

    Admin actions accept an org's id *or* its name; a name that looks like an
    id could make one org's action land on another.
    """
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_ORG_NAME_LENGTH:
        raise InvalidRequest("an organization name is 1 to 100 characters", param="name")
    if cleaned.lower().startswith("org_"):
        raise InvalidRequest("an organization name may not start with 'org_'", param="name")
    if has_control_characters(cleaned):
        raise InvalidRequest("an organization name has no control characters", param="name")
    return cleaned
