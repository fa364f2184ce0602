"""Erasing a member on request (GDPR article 17): the person goes, the money stays.

An admin (or the operator, from the command line) erases a member: a
member still active is removed first, with the checks a removal has (only
an owner erases an owner; the last owner stays), then their content is
deleted and what the org must keep is pseudonymized, in one transaction
(``store.erasure`` says what happens to every table). The receipt in the
audit log (``member.erased``) names the alias and the counts, never the
person.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, PermissionDenied
from chatgrid.identity import roles
from chatgrid.identity.models import Member, Org, Role
from chatgrid.store.erasure import ErasureRepository
from chatgrid.store.types import utcnow


def erase_member(
    ctx: AppContext, org: Org, actor_member: Member | None, actor: Actor, member_id: str
) -> dict[str, Any]:
    """Erase one member of ``org``; ``actor_member`` is None for the operator's command line.
    Returns the receipt (the alias and the counts)."""
    target = ctx.members.get(org.id, member_id)
    if actor_member is not None:
        _check_actor(actor_member, target)
    if target.status == "active":
        ctx.accounts.remove(org.id, member_id, _removal_guard)
    repo = ErasureRepository(ctx.engine)
    erasure = repo.plan(org.id, member_id)
    counts = repo.erase(erasure, utcnow())
    ctx.changes.bump()
    receipt = {"member": erasure.alias, **asdict(counts)}
    ctx.audit.record(org.id, actor, "member.erased", erasure.alias, receipt)
    return receipt


def erase_member_by_email(ctx: AppContext, org_ref: str, email: str) -> dict[str, Any]:
    """``chatgrid member erase``: the operator's erasure, by the member's email."""
    org = ctx.orgs.get(org_ref)
    member = ctx.members.find_by_email(org.id, email)
    return erase_member(ctx, org, None, Actor.cli(), member.id)


def check_erasure(actor: Member, target: Member, owners: int) -> None:
    """Raise what an erasure of ``target`` by ``actor`` would meet, before anyone asks for it:
    the console shows the refusal instead of a form that can only fail. ``erase_member``
    checks again, the last owner inside the removal's own transaction; ``owners`` is the
    org's active owners now."""
    _check_actor(actor, target)
    if target.status == "active":
        _removal_guard(target, owners)


def _check_actor(actor: Member, target: Member) -> None:
    roles.require_admin(actor.role)
    if target.role is Role.OWNER and actor.role is not Role.OWNER:
        raise PermissionDenied("only an owner can erase an owner", code="owner_only")


def _removal_guard(target: Member, owners: int) -> None:
    """The last owner stays, whoever asks: an org with no owner cannot be run."""
    if target.role is Role.OWNER and owners <= 1:
        raise Conflict(
            "the last owner cannot be erased; make someone else an owner first",
            code="last_owner",
        )
