"""Invitation rules: lifetime, single use, and what accepting needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatgrid.errors import PermissionDenied
from chatgrid.identity.invitations import (
    AcceptPlan,
    Invitation,
    InvitationState,
    InvitationUnusable,
    PasswordStep,
    accept_plan,
    check_usable,
    hash_invitation_token,
    invitation_email,
    new_invitation_token,
    password_step,
)
from chatgrid.identity.models import Role

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def invitation(**changes: object) -> Invitation:
    values: dict[str, object] = {
        "id": "inv_1",
        "org_id": "org_1",
        "email": "erin@example.com",
        "role": Role.MEMBER,
        "invited_by": "usr_1",
        "created_at": NOW,
        "expires_at": NOW + timedelta(days=7),
        "accepted_at": None,
        "revoked_at": None,
    }
    values.update(changes)
    return Invitation(**values)  # type: ignore[arg-type]


def test_an_invitation_is_pending_until_used_withdrawn_or_expired() -> None:
    assert invitation().state(NOW) is InvitationState.PENDING
    assert invitation(accepted_at=NOW).state(NOW) is InvitationState.ACCEPTED
    assert invitation(revoked_at=NOW).state(NOW) is InvitationState.REVOKED
    assert invitation().state(NOW + timedelta(days=7)) is InvitationState.EXPIRED
    check_usable(invitation(), NOW)


@pytest.mark.parametrize(
    ("changes", "when", "code"),
    [
        ({"accepted_at": NOW}, NOW, "invitation_used"),
        ({"revoked_at": NOW}, NOW, "invitation_revoked"),
        ({}, NOW + timedelta(days=8), "invitation_expired"),
    ],
)
def test_a_used_withdrawn_or_expired_invitation_cannot_be_accepted(
    changes: dict[str, object], when: datetime, code: str
) -> None:
    with pytest.raises(InvitationUnusable) as refused:
        check_usable(invitation(**changes), when)
    assert refused.value.code == code
    assert refused.value.status == 410


def test_tokens_are_random_and_stored_hashed() -> None:
    token = new_invitation_token()
    assert token.startswith("cgi_") and len(token) > 40
    assert new_invitation_token() != token
    assert token not in hash_invitation_token(token) and len(hash_invitation_token(token)) == 64


def test_the_page_asks_every_address_the_same_unless_the_invitee_is_signed_in() -> None:
    assert accept_plan(signed_in_as_invitee=False) is AcceptPlan.PASSWORD
    assert accept_plan(signed_in_as_invitee=True) is AcceptPlan.JOIN


def test_what_the_password_sent_does() -> None:
    new = password_step(account_exists=False, has_password=False, other_orgs=0)
    assert new is PasswordStep.SET_PASSWORD
    known = password_step(account_exists=True, has_password=True, other_orgs=3)
    assert known is PasswordStep.SIGN_IN
    # Added from the command line to no other org: the link sets the first password.
    cli = password_step(account_exists=True, has_password=False, other_orgs=0)
    assert cli is PasswordStep.SET_PASSWORD


def test_a_link_cannot_claim_an_account_that_works_in_another_org() -> None:
    with pytest.raises(PermissionDenied):
        password_step(account_exists=True, has_password=False, other_orgs=1)


def test_the_email_names_the_org_the_inviter_and_the_link() -> None:
    subject, body = invitation_email(
        org_name="Acme",
        inviter="alice@example.com",
        role=Role.ADMIN,
        link="https://chatgrid.example.com/join/cgi_x",
        expires_at=NOW,
    )
    assert subject == "alice@example.com invited you to Acme on ChatGrid"
    assert "an admin" in body and "https://chatgrid.example.com/join/cgi_x" in body
