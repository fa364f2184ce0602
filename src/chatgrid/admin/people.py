"""Orgs, members and personal tokens, as the operator's command line manages them.

Adding a member from the command line seats an address directly only while
nobody can sign in as it (no account, or one without a password). An address
that has a password joins through an invitation its holder accepts while
signed in: until email ownership is verified, a password proves nothing
about an address, and seating it directly would hand the org to whoever
signed up with that address first.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatgrid.admin import accounts, members, tokens
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.identity.models import ApiToken, BillingMode, Member, Org, Role
from chatgrid.identity.users import User, check_org_name, normalize_email
from chatgrid.mail import Mailer
from chatgrid.store.accounts import PasswordAccount

#: The inviter an invitation email names when the operator's command line sends it.
OPERATOR_INVITER = "Your ChatGrid operator"


def create_org(ctx: AppContext, name: str, mode: BillingMode, *, actor: Actor | None = None) -> Org:
    """An org with no owner and no trial (billed on the default plan), audited."""
    org = ctx.orgs.create(check_org_name(name), mode)
    ctx.audit.record(
        org.id, actor or Actor.cli(), "org.created", org.id, {"name": org.name, "mode": mode.value}
    )
    return org


def create_operator(
    ctx: AppContext, email: str, password: str | None, *, actor: Actor | None = None
) -> User:
    """An operator account: a new one with this password, or an existing one made operator.

    Audited as ``operator.created``; see ``chatgrid.admin.accounts.create_operator``.
    """
    return accounts.create_operator(ctx, email, password, actor=actor)


@dataclass(frozen=True)
class MemberAdded:
    """What ``add_or_invite`` did: seated the address, or invited its account's holder."""

    member: Member | None
    invitation: members.InvitationIssued | None


def add_member(ctx: AppContext, org_ref: str, email: str, role: Role) -> Member:
    """Seat an address that nobody can sign in as; ``PasswordAccount`` (409) otherwise."""
    if "@" not in email or len(email) > 320:
        raise InvalidRequest(f"{email!r} is not an email address", param="email")
    org = ctx.orgs.get(org_ref)
    member = ctx.accounts.add_member_without_password(org.id, email.strip().lower(), role)
    ctx.changes.bump()
    return member


def add_or_invite(
    ctx: AppContext,
    org_ref: str,
    email: str,
    role: Role,
    *,
    actor: Actor,
    mailer: Mailer | None,
) -> MemberAdded:
    """``chatgrid member add``: seat the address, or invite it when it has a password.

    The invitation is emailed when SMTP and ``CHATGRID_PUBLIC_URL`` are set;
    otherwise its link (on the public URL, or a path to put after the
    console's address) is handed back to pass on to the person.
    """
    org = ctx.orgs.get(org_ref)
    try:
        member = add_member(ctx, org.id, email, role)
    except PasswordAccount:
        pass
    else:
        details = {"email": member.email, "role": role.value}
        ctx.audit.record(org.id, actor, "member.added", member.id, details)
        return MemberAdded(member, None)
    issued = members.issue_invitation(
        ctx,
        org,
        actor,
        email=normalize_email(email),
        role=role,
        inviter_name=OPERATOR_INVITER,
        invited_by=None,
        link_base=ctx.settings.public_url or "",
        mailer=mailer,
    )
    return MemberAdded(None, issued)


def create_token(
    ctx: AppContext,
    org_ref: str,
    email: str,
    *,
    name: str = "",
    expires_in_days: int | None = None,
    actor: Actor | None = None,
) -> tuple[ApiToken, str]:
    """``chatgrid token create``: a member's token by email, with the console's checks and audit."""
    org = ctx.orgs.get(org_ref)
    member = ctx.members.find_by_email(org.id, email)
    return tokens.create_personal_token(
        ctx, member, actor or Actor.cli(), name=name, expires_in_days=expires_in_days
    )


def revoke_token(ctx: AppContext, org_ref: str, token_id: str, *, actor: Actor) -> None:
    """``chatgrid token revoke``: the console's revoke (audited with the owner's email)."""
    org = ctx.orgs.get(org_ref)
    token = tokens.find_token(ctx, org.id, token_id, None)
    owner = ctx.members.get(org.id, token.member_id)
    tokens.revoke_personal_token(ctx, token, actor, owner.email)
