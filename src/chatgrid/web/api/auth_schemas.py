"""Bodies of sessions, sign-up, invitations and the caller's password, each beside its converter.

The sign-up and invitation-preview answers are shaped so that nothing in
them depends on whether an address already has an account (see
``admin.accounts.request_sign_up`` and ``identity.invitations``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from chatgrid.admin.members import InvitationPreview as Preview
from chatgrid.identity.models import BillingMode, Role
from chatgrid.identity.sessions import SessionRecord
from chatgrid.identity.users import Membership, User
from chatgrid.web.api.schemas import Strict

# What a caller sends


class SignIn(Strict):
    email: str = Field(max_length=400)
    password: str = Field(max_length=4096)


class SignUp(Strict):
    email: str = Field(max_length=400)
    password: str = Field(max_length=4096, description="At least 8 characters, not a common one.")
    org_name: str = Field(max_length=200)


class PasswordChange(Strict):
    current_password: str = Field(max_length=4096)
    new_password: str = Field(max_length=4096)


class InvitationAccept(Strict):
    token: str = Field(max_length=200)
    password: str | None = Field(default=None, max_length=4096)


# What comes back


class CsrfPublic(BaseModel):
    csrf_token: str = Field(description="Send back as X-CSRF-Token (pre-session calls only).")


class UserPublic(BaseModel):
    id: str
    email: str
    is_operator: bool


def user_public(user: User) -> UserPublic:
    return UserPublic(id=user.id, email=user.email, is_operator=user.is_operator)


class MembershipPublic(BaseModel):
    org_id: str
    org_name: str
    role: Role
    member_id: str
    billing_mode: BillingMode


def membership_public(membership: Membership) -> MembershipPublic:
    return MembershipPublic(
        org_id=membership.org_id,
        org_name=membership.org_name,
        role=membership.role,
        member_id=membership.member_id,
        billing_mode=membership.billing_mode,
    )


class SessionPublic(BaseModel):
    user: UserPublic
    csrf_token: str = Field(description="Send as X-CSRF-Token on every call that changes state.")
    orgs: list[MembershipPublic]
    expires_at: datetime


def session_public(
    user: User, record: SessionRecord, memberships: list[Membership]
) -> SessionPublic:
    return SessionPublic(
        user=user_public(user),
        csrf_token=record.csrf_token,
        orgs=[membership_public(m) for m in memberships],
        expires_at=record.expires_at,
    )


class SignUpAccepted(BaseModel):
    """The one answer to a sign-up that passed its checks, new address or not."""

    status: Literal["sign_in", "check_email"] = Field(
        description="What to do next: sign in with the address and password just sent, or "
        "(where the instance sends email) first open the link emailed to the address."
    )
    email: str
    org_name: str
    message: str


def sign_up_accepted(email: str, org_name: str, *, emailed: bool = False) -> SignUpAccepted:
    """The answer to a sign-up, in the address and name as they were stored."""
    email, org_name = email.strip().lower(), org_name.strip()
    return SignUpAccepted(
        status="check_email" if emailed else "sign_in",
        email=email,
        org_name=org_name,
        message=sign_up_message(email, org_name, emailed=emailed),
    )


def sign_up_message(email: str, org_name: str, *, emailed: bool = False) -> str:
    """What anyone who signed up reads: true for a new address and for a known one alike.

    ``emailed``: this instance mails a confirmation link to a new address, and
    a note to a known one (``admin.accounts.request_sign_up``).
    """
    if emailed:
        return (
            f"We sent an email to {email}. If this address is new here, {org_name} is ready: "
            "open the link in the email to confirm the address, then sign in with the password "
            "you just chose. If you already had an account with this address, nothing was "
            "changed: the email says how to sign in."
        )
    return (
        f"Sign in as {email} to continue. If this address is new here, {org_name} is ready "
        "and the password you just chose opens it. If you already had an account with this "
        "address, nothing was changed: sign in with your existing password and create the "
        "organization from your list of organizations."
    )


class InvitationPreview(BaseModel):
    org_id: str
    org_name: str
    email: str
    role: Role
    expires_at: datetime
    needs: Literal["password", "join"] = Field(
        description="password: send a password with the acceptance — the address's console "
        "password if it has one, otherwise a new one for it (the answer never says which); "
        "join: nothing (already signed in as the invited address)."
    )


def invitation_preview(preview: Preview) -> InvitationPreview:
    invitation = preview.invitation
    return InvitationPreview(
        org_id=invitation.org_id,
        org_name=preview.org_name,
        email=invitation.email,
        role=invitation.role,
        expires_at=invitation.expires_at,
        needs=preview.plan.value,
    )
