"""Orgs, members and personal tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from chatgrid.admin import accounts, erasure, operator, org_settings, people
from chatgrid.audit import Actor
from chatgrid.cli.common import (
    OrgArg,
    admin_context,
    emit,
    read_secret,
)
from chatgrid.identity.models import BillingMode, Role
from chatgrid.mail import mailer_from_settings

org_app = typer.Typer(help="Organizations.", no_args_is_help=True)
member_app = typer.Typer(help="Members of an org.", no_args_is_help=True)
token_app = typer.Typer(help="Personal API tokens.", no_args_is_help=True)


@org_app.command("create")
def org_create(
    name: str,
    mode: Annotated[BillingMode, typer.Option(help="byok or shared credits.")] = BillingMode.BYOK,
) -> None:
    """Create an org."""
    with admin_context() as ctx:
        org = people.create_org(ctx, name, mode, actor=Actor.cli())
        emit({"id": org.id, "name": org.name, "mode": org.billing_mode.value})


@org_app.command("mode")
def org_mode(org: OrgArg, mode: BillingMode) -> None:
    """Switch an org between BYOK and shared credits (in force when this returns)."""
    with admin_context() as ctx:
        switched = org_settings.switch_mode(ctx, ctx.orgs.get(org).id, Actor.cli(), mode)
        emit({"id": switched.id, "mode": switched.billing_mode.value})


@org_app.command("allow-shared")
def org_allow_shared(
    org: OrgArg,
    allowed: Annotated[
        bool, typer.Option("--allowed/--not-allowed", help="Operator's choice.")
    ] = True,
) -> None:
    """Operator: let an org use shared credits (or not; refused while it is on them)."""
    with admin_context() as ctx:
        changed = operator.set_shared_allowed(ctx, Actor.cli(), org, allowed)
        emit({"id": changed.id, "shared_allowed": changed.shared_allowed})


@org_app.command("list")
def org_list() -> None:
    """List every org."""
    with admin_context() as ctx:
        emit(
            [
                {"id": o.id, "name": o.name, "mode": o.billing_mode.value, "status": o.status.value}
                for o in ctx.orgs.list()
            ]
        )


@member_app.command("add")
def member_add(
    org: OrgArg,
    email: str,
    role: Annotated[Role, typer.Option(help="owner, admin or member.")] = Role.MEMBER,
) -> None:
    """Add a member (a seat) to an org, or invite an address that already has a password.

    An address with a console password is not seated directly: an invitation
    is emailed (SMTP and CHATGRID_PUBLIC_URL set) or its link printed, and the
    person joins by accepting it while signed in.
    """
    with admin_context() as ctx:
        added = people.add_or_invite(
            ctx, org, email, role, actor=Actor.cli(), mailer=mailer_from_settings(ctx.settings)
        )
        if added.member is not None:
            member = added.member
            emit(
                {
                    "status": "added",
                    "id": member.id,
                    "email": member.email,
                    "role": member.role.value,
                }
            )
            return
        issued = added.invitation
        assert issued is not None
        invitation = issued.invitation
        emit(
            {
                "status": "invited",
                "invitation_id": invitation.id,
                "email": invitation.email,
                "role": invitation.role.value,
                "expires_at": invitation.expires_at,
                "emailed": issued.emailed,
                "link": issued.link,
                "message": (
                    f"{invitation.email} already has a console account, so it is not added "
                    "directly: the person joins by opening the invitation link and signing in. "
                    + (
                        "The link was emailed to the address."
                        if issued.emailed
                        else "Pass the link on to the person (put the console's address "
                        "in front of it when it starts with /)."
                    )
                ),
            }
        )


@member_app.command("list")
def member_list(org: OrgArg) -> None:
    """List an org's members."""
    with admin_context() as ctx:
        members = ctx.members.list(ctx.orgs.get(org).id)
        emit(
            [
                {"id": m.id, "email": m.email, "role": m.role.value, "status": m.status}
                for m in members
            ]
        )


@member_app.command("erase")
def member_erase(
    org: OrgArg,
    email: str,
    yes: Annotated[bool, typer.Option("--yes", help="Erase without asking.")] = False,
) -> None:
    """Erase a member (a GDPR request): their conversations, private documents and account
    go; the ledger and audit log keep them under a pseudonym. Cannot be undone."""
    if not yes:
        typer.confirm(f"Erase {email} from {org}? This cannot be undone.", abort=True)
    with admin_context() as ctx:
        emit(erasure.erase_member_by_email(ctx, org, email))


@token_app.command("create")
def token_create(
    org: OrgArg,
    email: str,
    name: Annotated[str, typer.Option(help="A label for the token.")] = "",
    expires_in_days: Annotated[
        int | None, typer.Option(help="Expire after this many days.")
    ] = None,
) -> None:
    """Create a personal API token for a member; it is shown once."""
    with admin_context() as ctx:
        token, plain = people.create_token(
            ctx, org, email, name=name, expires_in_days=expires_in_days, actor=Actor.cli()
        )
        emit(
            {"id": token.id, "token": plain, "prefix": token.prefix, "expires_at": token.expires_at}
        )


@token_app.command("list")
def token_list(org: OrgArg) -> None:
    """List an org's tokens (prefix only)."""
    with admin_context() as ctx:
        tokens = ctx.tokens.list(ctx.orgs.get(org).id)
        emit(
            [
                {
                    "id": t.id,
                    "member_id": t.member_id,
                    "prefix": t.prefix,
                    "name": t.name,
                    "created_at": t.created_at,
                    "expires_at": t.expires_at,
                    "revoked_at": t.revoked_at,
                }
                for t in tokens
            ]
        )


@token_app.command("revoke")
def token_revoke(org: OrgArg, token_id: str) -> None:
    """Revoke a token; refused by every server from the moment this returns."""
    with admin_context() as ctx:
        people.revoke_token(ctx, org, token_id, actor=Actor.cli())
        emit({"id": token_id, "revoked": True})


operator_app = typer.Typer(
    help="Operator accounts (whoever runs this instance).", no_args_is_help=True
)


@operator_app.command("create")
def operator_create(email: str) -> None:
    """Create the operator account (password on stdin), or make an existing account operator.

    An existing account keeps its password and no standard input is read;
    ``operator reset-password`` resets an operator's password.
    """
    with admin_context() as ctx:
        password = (
            None
            if accounts.operator_account_exists(ctx, email)
            else read_secret("Password (input hidden): ", what="password")
        )
        user = people.create_operator(ctx, email, password, actor=Actor.cli())
        emit({"id": user.id, "email": user.email, "operator": True})


@operator_app.command("reset-password")
def operator_reset_password(email: str) -> None:
    """Set a new password (from stdin) on an operator account; its sessions end."""
    password = read_secret("New password (input hidden): ", what="password")
    with admin_context() as ctx:
        user = accounts.reset_operator_password(ctx, email, password, actor=Actor.cli())
        emit({"id": user.id, "email": user.email, "password_reset": True})
