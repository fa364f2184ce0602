"""Erasing a member from the console (a GDPR request): a page that says what goes and what
stays, and the admin types the member's email, because an erasure cannot be undone.

The rules are ``admin.erasure``'s: the page asks them first (``check_erasure``) so that a
refused erasure shows why instead of a form that can only fail, and the erasure checks
them again when it runs.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import erasure, members
from chatgrid.errors import ChatGridError, InvalidRequest
from chatgrid.identity.models import Member, Role
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin, TargetMember
from chatgrid.web.pages.common import form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()


def blocked(state: ConsoleState, access: OrgAccess, target: Member) -> ChatGridError | None:
    """Why ``access``'s member may not erase ``target`` (only an owner erases an owner; the
    last owner stays), or None."""
    everyone, _ = members.members_and_seats(state.ctx, access.org)
    owners = sum(1 for m in everyone if m.status == "active" and m.role is Role.OWNER)
    try:
        erasure.check_erasure(access.member, target, owners)
    except ChatGridError as exc:
        return exc
    return None


def confirmed(typed: str, target: Member) -> None:
    """The typed email must be the member's: a slip of the mouse erases no one."""
    if typed.strip().casefold() != target.email.casefold():
        raise InvalidRequest(
            f"type {target.email} exactly to confirm the erasure; nothing was erased",
            param="confirm_email",
        )


def _erase_page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    target: Member,
    *,
    refused: ChatGridError | None = None,
    typed: str = "",
    receipt: dict[str, Any] | None = None,
) -> Response:
    refusal = blocked(state, access, target) if receipt is None else None
    return render(
        request,
        state,
        "member_erase.html",
        access=access,
        section="members",
        target=target,
        allowed=refusal is None,
        refused=refused or refusal,
        typed=typed,
        receipt=receipt,
    )


@router.get("/orgs/{org_id}/members/{member_id}/erase")
def erase_page(
    request: Request, state: Console, access: OrgAdmin, member: TargetMember
) -> Response:
    return _erase_page(request, state, access, member)


@router.post("/orgs/{org_id}/members/{member_id}/erase")
def erase_member(
    request: Request,
    state: Console,
    access: OrgAdmin,
    member: TargetMember,
    confirm_email: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    """The receipt is shown once here (the pseudonym and the counts) and kept in the audit log."""

    def erase() -> Response:
        confirmed(confirm_email, member)
        receipt = erasure.erase_member(
            state.ctx, access.org, access.member, access.actor, member.id
        )
        if member.id == access.member.id:  # their own session has just ended
            return redirect("/", "member_erased")
        return _erase_page(request, state, access, member, receipt=receipt)

    form = partial(_erase_page, request, state, access, member, typed=confirm_email[:320])
    return form_action(erase, form)
