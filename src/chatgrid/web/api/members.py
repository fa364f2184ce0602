"""Members, roles and invitations through the API (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, status
from starlette.requests import Request

from chatgrid.admin import erasure, members
from chatgrid.store.types import utcnow
from chatgrid.web.api.members_schemas import (
    ErasureReceipt,
    InvitationCreate,
    InvitationCreated,
    InvitationPublic,
    MemberPublic,
    MembersPublic,
    MemberUpdate,
    invitation_created,
    invitation_public,
    member_public,
    members_public,
)
from chatgrid.web.deps import Console, OrgAdmin, TargetInvitation, TargetMember

router = APIRouter(tags=["members"])


@router.get("/api/orgs/{org_id}/members", response_model=MembersPublic, summary="Members and seats")
def list_members(state: Console, access: OrgAdmin) -> MembersPublic:
    everyone, seats = members.members_and_seats(state.ctx, access.org)
    return members_public(everyone, seats)


@router.patch(
    "/api/orgs/{org_id}/members/{member_id}",
    response_model=MemberPublic,
    summary="Change a member's role",
)
def update_member(
    body: MemberUpdate, state: Console, access: OrgAdmin, member: TargetMember
) -> MemberPublic:
    """Only owners make or demote owners; the last owner stays (409)."""
    updated = members.change_role(
        state.ctx, access.org, access.member, access.actor, member.id, body.role
    )
    return member_public(updated)


@router.delete(
    "/api/orgs/{org_id}/members/{member_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member",
)
def remove_member(state: Console, access: OrgAdmin, member: TargetMember) -> None:
    """Their tokens are revoked and their sessions in this org end before this returns."""
    members.remove_member(state.ctx, access.org, access.member, access.actor, member.id)


@router.post(
    "/api/orgs/{org_id}/members/{member_id}/erase",
    response_model=ErasureReceipt,
    summary="Erase a member (a GDPR request)",
)
def erase_member(state: Console, access: OrgAdmin, member: TargetMember) -> ErasureReceipt:
    """Their conversations, private documents, tokens and sign-ins go; the ledger and the
    audit log keep them under a pseudonym (`member`). A member still active is removed
    first; only owners erase owners (403) and the last owner stays (409). Cannot be undone."""
    receipt = erasure.erase_member(state.ctx, access.org, access.member, access.actor, member.id)
    return ErasureReceipt(**receipt)


@router.get(
    "/api/orgs/{org_id}/invitations",
    response_model=list[InvitationPublic],
    summary="Pending invitations",
)
def list_invitations(state: Console, access: OrgAdmin) -> list[InvitationPublic]:
    return [invitation_public(i) for i in state.ctx.invitations.pending(access.org.id, utcnow())]


@router.post(
    "/api/orgs/{org_id}/invitations",
    response_model=InvitationCreated,
    status_code=201,
    summary="Invite someone (by email, or a link returned once)",
)
def create_invitation(
    request: Request, body: InvitationCreate, state: Console, access: OrgAdmin
) -> InvitationCreated:
    issued = members.invite(
        state.ctx,
        access.org,
        access.member,
        access.actor,
        email=body.email,
        role=body.role,
        link_base=state.ctx.settings.public_url or str(request.base_url),
        mailer=state.mailer,
        send_email=body.send_email,
    )
    return invitation_created(issued)


@router.delete(
    "/api/orgs/{org_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Withdraw an invitation",
)
def revoke_invitation(state: Console, access: OrgAdmin, invitation: TargetInvitation) -> None:
    members.revoke_invitation(state.ctx, access.org, access.actor, invitation.id)
