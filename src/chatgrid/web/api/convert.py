"""Domain values → API bodies (only the fields that may be shown)."""

from __future__ import annotations

from datetime import datetime

from chatgrid.admin.credentials import CredentialStatus
from chatgrid.admin.org_settings import Overview
from chatgrid.identity.invitations import Invitation
from chatgrid.identity.models import ApiToken, Member, Org, Role
from chatgrid.identity.sessions import SessionRecord
from chatgrid.identity.users import Membership, User
from chatgrid.limits.policy import OrgPolicy
from chatgrid.store.types import utcnow
from chatgrid.web.api import schemas


def user_public(user: User) -> schemas.UserPublic:
    return schemas.UserPublic(id=user.id, email=user.email, is_operator=user.is_operator)


def session_public(
    user: User, record: SessionRecord, memberships: list[Membership]
) -> schemas.SessionPublic:
    return schemas.SessionPublic(
        user=user_public(user),
        csrf_token=record.csrf_token,
        orgs=[
            schemas.MembershipPublic(
                org_id=m.org_id,
                org_name=m.org_name,
                role=m.role,
                member_id=m.member_id,
                billing_mode=m.billing_mode,
            )
            for m in memberships
        ],
        expires_at=record.expires_at,
    )


def org_public(
    org: Org, role: Role, shared_allowed: bool, trial_ends_at: datetime | None
) -> schemas.OrgPublic:
    return schemas.OrgPublic(
        id=org.id,
        name=org.name,
        billing_mode=org.billing_mode,
        status=org.status.value,
        shared_allowed=shared_allowed,
        trial_ends_at=trial_ends_at,
        your_role=role,
    )


def credential_public(status: CredentialStatus) -> schemas.CredentialPublic:
    return schemas.CredentialPublic.model_validate(status, from_attributes=True)


def overview_public(overview: Overview, role: Role) -> schemas.OverviewPublic:
    return schemas.OverviewPublic(
        org=org_public(overview.org, role, overview.shared_allowed, overview.trial_ends_at),
        seats=overview.seats,
        credential=credential_public(overview.credential) if overview.credential else None,
        usage_this_month=schemas.UsagePublic.model_validate(overview.usage, from_attributes=True),
    )


def policy_public(policy: OrgPolicy) -> schemas.PolicyPublic:
    return schemas.PolicyPublic.model_validate(policy.public())


def member_public(member: Member) -> schemas.MemberPublic:
    return schemas.MemberPublic(
        id=member.id,
        email=member.email,
        role=member.role,
        status=member.status,
        created_at=member.created_at,
    )


def invitation_public(invitation: Invitation) -> schemas.InvitationPublic:
    return schemas.InvitationPublic(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        status=invitation.state(utcnow()).value,
    )


def token_public(token: ApiToken) -> schemas.TokenPublic:
    return schemas.TokenPublic(
        id=token.id,
        member_id=token.member_id,
        prefix=token.prefix,
        name=token.name,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
    )
