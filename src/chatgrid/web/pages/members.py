"""Members and seats: invite (link or email), change roles, remove, withdraw invitations."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import members
from chatgrid.admin.billing import set_member_cap
from chatgrid.billing.plans import parse_dollars
from chatgrid.errors import ChatGridError, InvalidRequest
from chatgrid.identity.models import BillingMode, Member, Role
from chatgrid.identity.roles import check_removal
from chatgrid.ledger.money import format_dollars
from chatgrid.store.types import utcnow
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin, TargetInvitation, TargetMember
from chatgrid.web.pages.common import form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()


def parse_role(value: str) -> Role:
    if value not in {r.value for r in Role}:
        raise InvalidRequest("a role is owner, admin or member", param="role")
    return Role(value)


def link_base(request: Request, state: ConsoleState) -> str:
    return state.ctx.settings.public_url or str(request.base_url)


def mail_ready(state: ConsoleState) -> bool:
    return state.mailer is not None and state.ctx.settings.public_url is not None


def removable(actor: Member, active: list[Member]) -> set[str]:
    """The members ``actor`` may remove: a Remove button that always fails is not shown.

    The server's own rule (``check_removal``) decides, so the page cannot drift from it.
    """
    owners = sum(1 for m in active if m.role is Role.OWNER)
    allowed: set[str] = set()
    for target in active:
        try:
            check_removal(actor, target, owners)
        except ChatGridError:
            continue
        allowed.add(target.id)
    return allowed


def _members_page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    refused: ChatGridError | None = None,
    invite_email: str = "",
) -> Response:
    everyone, seats = members.members_and_seats(state.ctx, access.org)
    active = [m for m in everyone if m.status == "active"]
    return render(
        request,
        state,
        "members.html",
        access=access,
        section="members",
        members=active,
        removable=removable(access.member, active),
        seats=seats,
        invitations=state.ctx.invitations.pending(access.org.id, utcnow()),
        roles=[r.value for r in Role],
        shared=access.org.billing_mode is BillingMode.SHARED,
        caps={m: format_dollars(c) for m, c in state.ctx.billing.caps(access.org.id).items()},
        mail_ready=mail_ready(state),
        invite_email=invite_email,
        refused=refused,
    )


@router.get("/orgs/{org_id}/members")
def members_page(request: Request, state: Console, access: OrgAdmin) -> Response:
    return _members_page(request, state, access)


@router.post("/orgs/{org_id}/invitations")
def invite(
    request: Request,
    state: Console,
    access: OrgAdmin,
    email: Annotated[str, Form(max_length=400)] = "",
    role: Annotated[str, Form(max_length=20)] = "member",
    send_email: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    def send() -> Response:
        issued = members.invite(
            state.ctx,
            access.org,
            access.member,
            access.actor,
            email=email,
            role=parse_role(role),
            link_base=link_base(request, state),
            mailer=state.mailer,
            send_email=bool(send_email),
        )
        if issued.emailed:
            return redirect(f"/orgs/{access.org.id}/members", "invitation_sent")
        return render(
            request,
            state,
            "invitation_created.html",
            access=access,
            section="members",
            issued=issued,
        )

    form = partial(_members_page, request, state, access, invite_email=email[:320])
    return form_action(send, form)


@router.post("/orgs/{org_id}/invitations/{invitation_id}/revoke")
def revoke_invitation(
    request: Request, state: Console, access: OrgAdmin, invitation: TargetInvitation
) -> Response:
    def revoke() -> Response:
        members.revoke_invitation(state.ctx, access.org, access.actor, invitation.id)
        return redirect(f"/orgs/{access.org.id}/members", "invitation_revoked")

    return form_action(revoke, partial(_members_page, request, state, access))


@router.post("/orgs/{org_id}/members/{member_id}/role")
def change_role(
    request: Request,
    state: Console,
    access: OrgAdmin,
    member: TargetMember,
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    def change() -> Response:
        new_role = parse_role(role)
        members.change_role(state.ctx, access.org, access.member, access.actor, member.id, new_role)
        if member.id == access.member.id and new_role is Role.MEMBER:
            return redirect(f"/orgs/{access.org.id}", "role_changed")
        return redirect(f"/orgs/{access.org.id}/members", "role_changed")

    return form_action(change, partial(_members_page, request, state, access))


@router.post("/orgs/{org_id}/members/{member_id}/remove")
def remove_member(
    request: Request, state: Console, access: OrgAdmin, member: TargetMember
) -> Response:
    def remove() -> Response:
        members.remove_member(state.ctx, access.org, access.member, access.actor, member.id)
        if member.id == access.member.id:
            return redirect("/", "member_removed")
        return redirect(f"/orgs/{access.org.id}/members", "member_removed")

    return form_action(remove, partial(_members_page, request, state, access))


@router.post("/orgs/{org_id}/members/{member_id}/cap")
def set_cap(
    request: Request,
    state: Console,
    access: OrgAdmin,
    member: TargetMember,
    cap_usd: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """A member's monthly shared-credit cap in dollars; empty clears it."""

    def save() -> Response:
        cap = parse_dollars(cap_usd, "cap_usd") if cap_usd.strip() else None
        set_member_cap(state.ctx, access.org.id, member.email, cap, actor=access.actor)
        return redirect(f"/orgs/{access.org.id}/members", "cap_saved")

    return form_action(save, partial(_members_page, request, state, access))
