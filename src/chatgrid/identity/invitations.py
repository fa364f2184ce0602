"""Invitation rules: the link's token, its lifetime, and what accepting it needs.

An invitation is bound to an email address. Whoever holds the link acts for
that address, so accepting never hands over an account someone else already
uses: an address with a password must sign in with it, and an address
without one (added from the command line) gets its first password here only
if it belongs to no other org.

What a link's page shows never depends on whether the address has an
account: anyone but the signed-in invitee is asked for "a password" — the
account's if there is one, a new one otherwise (``AcceptPlan.PASSWORD``).
Which of the two it was is decided only when the password is sent
(``password_step``), so a preview tells an inviter nothing about the address.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chatgrid.errors import ChatGridError, PermissionDenied
from chatgrid.identity.models import Role

INVITATION_TOKEN_PREFIX = "cgi_"  # noqa: S105 (a label, not a secret)


class InvitationState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


class InvitationUnusable(ChatGridError):
    status = 410
    error_type = "invalid_request_error"
    default_code = "invitation_unusable"


@dataclass(frozen=True)
class Invitation:
    id: str
    org_id: str
    email: str
    role: Role
    invited_by: str | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime) -> InvitationState:
        if self.accepted_at is not None:
            return InvitationState.ACCEPTED
        if self.revoked_at is not None:
            return InvitationState.REVOKED
        if now >= self.expires_at:
            return InvitationState.EXPIRED
        return InvitationState.PENDING


class AcceptPlan(StrEnum):
    """What the link's page asks for (the same for every address)."""

    PASSWORD = "password"  # noqa: S105 (the account's password, or a first one)
    JOIN = "join"  # already signed in as the invited address


class PasswordStep(StrEnum):
    """What the password sent with an acceptance is used for (never shown before)."""

    SET_PASSWORD = "set_password"  # noqa: S105 (new account, or one without a password)
    SIGN_IN = "sign_in"  # the address has a password: prove it


def new_invitation_token() -> str:
    return INVITATION_TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_invitation_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def check_usable(invitation: Invitation, now: datetime) -> None:
    state = invitation.state(now)
    if state is InvitationState.ACCEPTED:
        raise InvitationUnusable("this invitation has already been used", code="invitation_used")
    if state is InvitationState.REVOKED:
        raise InvitationUnusable("this invitation was withdrawn", code="invitation_revoked")
    if state is InvitationState.EXPIRED:
        raise InvitationUnusable(
            "this invitation has expired; ask for a new one", code="invitation_expired"
        )


def accept_plan(*, signed_in_as_invitee: bool) -> AcceptPlan:
    """What the link's page asks for: nothing about the address's account shows."""
    return AcceptPlan.JOIN if signed_in_as_invitee else AcceptPlan.PASSWORD


def password_step(*, account_exists: bool, has_password: bool, other_orgs: int) -> PasswordStep:
    """What the password sent with an acceptance does.

    ``other_orgs`` counts the address's active memberships in other orgs: a
    password-less account that already works elsewhere cannot be claimed by
    whoever holds a link to this org.
    """
    if account_exists and has_password:
        return PasswordStep.SIGN_IN
    if account_exists and other_orgs > 0:
        raise PermissionDenied(
            "this address already belongs to another organization without a console "
            "password; ask that organization's admin or your operator to set one up first",
            code="account_elsewhere",
        )
    return PasswordStep.SET_PASSWORD


def invitation_email(
    *, org_name: str, inviter: str, role: Role, link: str, expires_at: datetime
) -> tuple[str, str]:
    """Subject and plain-text body of an invitation email."""
    subject = f"{inviter} invited you to {org_name} on ChatGrid"
    body = (
        f"{inviter} invited you to join {org_name} on ChatGrid as {_article(role)} {role.value}.\n"
        "\n"
        f"Accept the invitation here:\n{link}\n"
        "\n"
        f"The link works once and until {expires_at:%Y-%m-%d %H:%M} UTC. If you did not expect\n"
        "this email, ignore it: nothing happens unless the link is opened and accepted.\n"
    )
    return subject, body


def _article(role: Role) -> str:
    return "an" if role.value[0] in "aeiou" else "a"
