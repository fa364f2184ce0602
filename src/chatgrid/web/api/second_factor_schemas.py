"""Bodies of two-step sign-in, the sign-in's second step, own sessions and the org rule.

Two answers carry secrets, each once: ``SecondFactorSetup`` (the seed, to put
in an authenticator app) and ``RecoveryCodes``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from chatgrid.admin.own_sessions import OwnSession
from chatgrid.admin.second_factor import MemberCoverage, SecondFactorStatus
from chatgrid.admin.second_step import SecondStepPending
from chatgrid.web.api.schemas import Strict

CodeText = Field(min_length=1, max_length=100)
PasswordText = Field(min_length=1, max_length=4096)


class SecondStepCode(Strict):
    code: str = Field(
        min_length=1,
        max_length=100,
        description="The six digits the authenticator app shows, or a recovery code.",
    )


class SecondStepRequired(BaseModel):
    """The password was right; the account asks for a code before any session exists."""

    status: Literal["second_factor_required"]
    message: str
    expires_at: datetime = Field(
        description="Send the code before this (POST /api/session/second-factor)."
    )


SECOND_STEP_MESSAGE = (
    "the password is right; send a code from the authenticator app (or a recovery code) "
    "to POST /api/session/second-factor to finish signing in"
)


def second_step_required(pending: SecondStepPending) -> SecondStepRequired:
    return SecondStepRequired(
        status="second_factor_required", message=SECOND_STEP_MESSAGE, expires_at=pending.expires_at
    )


class SecondFactorConfirm(Strict):
    code: str = CodeText
    current_password: str = PasswordText


class PasswordOnly(Strict):
    current_password: str = PasswordText


class SecondFactorOff(Strict):
    current_password: str = PasswordText
    code: str = Field(min_length=1, max_length=100, description="From the app, or a recovery code.")


class SecondFactorPublic(BaseModel):
    enabled: bool
    since: datetime | None
    recovery_codes_left: int
    setup_pending: bool = Field(description="A seed was made but no code has confirmed it yet.")
    required_by: list[str] = Field(description="Your orgs that require it, by name.")


def second_factor_public(status: SecondFactorStatus) -> SecondFactorPublic:
    return SecondFactorPublic(
        enabled=status.enabled,
        since=status.since,
        recovery_codes_left=status.recovery_codes_left,
        setup_pending=status.setup_pending,
        required_by=status.required_by,
    )


class SecondFactorSetup(BaseModel):
    """Shown once: put it in an authenticator app, then confirm with a code."""

    secret: str = Field(description="The base32 seed.")
    otpauth_uri: str = Field(description="The same as an otpauth:// URI (what the QR code holds).")


class RecoveryCodes(BaseModel):
    """Shown once; each signs in once in place of a code from the app."""

    recovery_codes: list[str]


class OwnSessionPublic(BaseModel):
    id: str
    device: str
    address: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool = Field(description="The session making this call.")


def own_session_public(session: OwnSession) -> OwnSessionPublic:
    return OwnSessionPublic(
        id=session.id,
        device=session.device,
        address=session.address,
        created_at=session.created_at,
        last_seen_at=session.last_seen_at,
        expires_at=session.expires_at,
        current=session.current,
    )


class SessionsEnded(BaseModel):
    ended: int


class OrgRuleUpdate(Strict):
    required: bool = Field(description="Require two-step sign-in of members with a password.")


class MemberCoveragePublic(BaseModel):
    member_id: str
    email: str
    role: str
    has_password: bool
    second_factor: bool


class OrgRulePublic(BaseModel):
    required: bool
    members: list[MemberCoveragePublic]


def org_rule_public(required: bool, coverage: list[MemberCoverage]) -> OrgRulePublic:
    return OrgRulePublic(
        required=required,
        members=[
            MemberCoveragePublic(
                member_id=m.member_id,
                email=m.email,
                role=m.role,
                has_password=m.has_password,
                second_factor=m.second_factor,
            )
            for m in coverage
        ],
    )
