"""Seats: invitations (by link or email), accepting them, roles and removal.

The role rules live in ``identity.roles`` and the invitation rules in
``identity.invitations``; this module applies them to stored state, audits
each change and tells running servers about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from chatgrid.admin.signin import ClientInfo, authenticate
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, InvalidRequest, NotFound
from chatgrid.identity import roles
from chatgrid.identity.invitations import (
    AcceptPlan,
    Invitation,
    PasswordStep,
    accept_plan,
    check_usable,
    hash_invitation_token,
    invitation_email,
    new_invitation_token,
    password_step,
)
from chatgrid.identity.models import Member, Org, Role
from chatgrid.identity.passwords import check_password_policy, hash_password
from chatgrid.identity.throttle import LoginThrottle
from chatgrid.identity.users import User, normalize_email
from chatgrid.mail import Mailer, MailFailed
from chatgrid.store.accounts import Removal
from chatgrid.store.types import utcnow

INVITE_PATH = "/join/"


@dataclass(frozen=True)
class InvitationIssued:
    invitation: Invitation
    link: str | None  # shown once to the admin; None when it went by email only
    emailed: bool


@dataclass(frozen=True)
class InvitationPreview:
    invitation: Invitation
    org_name: str
    plan: AcceptPlan


def invite(
    ctx: AppContext,
    org: Org,
    inviter: Member,
    actor: Actor,
    *,
    email: str,
    role: Role,
    link_base: str,
    mailer: Mailer | None,
    send_email: bool = True,
) -> InvitationIssued:
    """Invite an address. By email when SMTP and the public URL are set, else a link to pass on.

    An emailed link is never shown to the admin: only the address's owner
    can use it. A member who has no password yet (added from the command
    line) can be invited again to set one.
    """
    address = normalize_email(email)
    roles.check_invite(inviter.role, role)
    existing = ctx.accounts.find_user(address)
    already = existing is not None and ctx.accounts.membership(existing.id, org.id) is not None
    if existing is not None and existing.has_password and already:
        raise Conflict(f"{address} is already a member", code="member_exists", param="email")
    return issue_invitation(
        ctx,
        org,
        actor,
        email=address,
        role=role,
        inviter_name=inviter.email,
        invited_by=inviter.user_id,
        link_base=link_base,
        mailer=mailer,
        send_email=send_email,
    )


def issue_invitation(
    ctx: AppContext,
    org: Org,
    actor: Actor,
    *,
    email: str,
    role: Role,
    inviter_name: str,
    invited_by: str | None,
    link_base: str,
    mailer: Mailer | None,
    send_email: bool = True,
) -> InvitationIssued:
    """Store an invitation to a normalized address and email it, or hand back its link.

    The role check is the caller's: an admin's (``invite``) or the
    operator's command line, which may invite any role.
    """
    token = new_invitation_token()
    invitation = ctx.invitations.create(
        org.id,
        email,
        role,
        hash_invitation_token(token),
        invited_by=invited_by,
        expires_at=utcnow() + timedelta(days=ctx.settings.invitation_days),
    )
    by_email = send_email and mailer is not None and ctx.settings.public_url is not None
    base = (ctx.settings.public_url if by_email else link_base) or link_base
    link = base.rstrip("/") + INVITE_PATH + token
    details: dict[str, object] = {"email": email, "role": role.value}
    if by_email:
        assert mailer is not None
        subject, body = invitation_email(
            org_name=org.name,
            inviter=inviter_name,
            role=role,
            link=link,
            expires_at=invitation.expires_at,
        )
        try:
            mailer.send(to=email, subject=subject, body=body)
        except MailFailed:
            ctx.invitations.revoke(org.id, invitation.id)
            raise
        ctx.audit.record(org.id, actor, "invitation.sent", invitation.id, details)
        return InvitationIssued(invitation, None, True)
    ctx.audit.record(org.id, actor, "invitation.created", invitation.id, details)
    return InvitationIssued(invitation, link, False)


def revoke_invitation(ctx: AppContext, org: Org, actor: Actor, invitation_id: str) -> Invitation:
    invitation = ctx.invitations.revoke(org.id, invitation_id)
    ctx.audit.record(
        org.id, actor, "invitation.revoked", invitation.id, {"email": invitation.email}
    )
    return invitation


def preview_invitation(ctx: AppContext, token: str, signed_in: User | None) -> InvitationPreview:
    """What an invitation link offers and what accepting it needs, or why it cannot be used.

    Nothing here depends on the invited address's account (whether it
    exists, has a password or belongs elsewhere): an inviter who opens their
    own link learns nothing about the address.
    """
    invitation = _by_token(ctx, token)
    check_usable(invitation, utcnow())
    plan = accept_plan(
        signed_in_as_invitee=signed_in is not None and signed_in.email == invitation.email
    )
    org = ctx.orgs.by_id(invitation.org_id)
    return InvitationPreview(invitation, org.name, plan)


def accept_invitation(
    ctx: AppContext,
    throttle: LoginThrottle,
    token: str,
    *,
    password: str | None,
    signed_in: User | None,
    client: ClientInfo,
) -> tuple[User, Member]:
    """Use an invitation: join as the signed-in invitee, after signing in, or with a password."""
    preview = preview_invitation(ctx, token, signed_in)
    invitation = preview.invitation
    new_hash: str | None = None
    if preview.plan is AcceptPlan.PASSWORD:
        if not password:
            raise InvalidRequest("enter a password", param="password")
        account = ctx.accounts.find_user(invitation.email)
        step = password_step(
            account_exists=account is not None,
            has_password=account is not None and account.has_password,
            other_orgs=(
                ctx.accounts.other_active_orgs(account.id, invitation.org_id) if account else 0
            ),
        )
        if step is PasswordStep.SIGN_IN:
            # The link came to the address: with the account's password, that verifies it.
            authenticate(ctx, throttle, invitation.email, password, client, address_proven=True)
        else:
            check_password_policy(password, email=invitation.email)
            new_hash = hash_password(password)
    member = ctx.invitations.accept(invitation, password_hash=new_hash)
    ctx.changes.bump()
    user = ctx.accounts.find_user(invitation.email)
    assert user is not None
    ctx.audit.record(
        invitation.org_id,
        client.actor(user),
        "invitation.accepted",
        invitation.id,
        {"email": invitation.email, "role": member.role.value, "member_id": member.id},
    )
    return user, member


def _by_token(ctx: AppContext, token: str) -> Invitation:
    invitation = None
    if 0 < len(token) <= 200:
        invitation = ctx.invitations.by_token_hash(hash_invitation_token(token))
    if invitation is None:
        raise NotFound("this invitation link is not valid", code="invitation_not_found")
    return invitation


def change_role(
    ctx: AppContext, org: Org, actor_member: Member, actor: Actor, member_id: str, role: Role
) -> Member:
    previous: list[Role] = []

    def guard(target: Member, owners: int) -> None:
        roles.check_role_change(actor_member, target, role, owners)
        previous.append(target.role)

    updated = ctx.accounts.change_role(org.id, member_id, role, guard)
    ctx.changes.bump()
    ctx.audit.record(
        org.id,
        actor,
        "member.role_changed",
        updated.id,
        {"email": updated.email, "from": previous[0].value, "to": role.value},
    )
    return updated


def remove_member(
    ctx: AppContext, org: Org, actor_member: Member, actor: Actor, member_id: str
) -> Removal:
    """Remove a seat: the member's tokens are revoked and their sessions here end, at once."""

    def guard(target: Member, owners: int) -> None:
        roles.check_removal(actor_member, target, owners)

    removal = ctx.accounts.remove(org.id, member_id, guard)
    ctx.changes.bump()
    ctx.audit.record(
        org.id,
        actor,
        "member.removed",
        removal.member.id,
        {
            "email": removal.member.email,
            "role": removal.member.role.value,
            "tokens_revoked": removal.tokens_revoked,
            "sessions_ended": removal.sessions_ended,
        },
    )
    return removal


def members_and_seats(ctx: AppContext, org: Org) -> tuple[list[Member], int]:
    """Everyone who ever had a seat (removed ones marked), and the seat count (active members)."""
    everyone = ctx.members.list(org.id)
    return everyone, sum(1 for m in everyone if m.status == "active")
