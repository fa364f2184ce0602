"""Accounts as a whole (not one org's seat): the operator vouches for an address."""

from __future__ import annotations

import typer

from chatgrid.admin import email_verification
from chatgrid.audit import Actor
from chatgrid.cli.common import admin_context, emit

user_app = typer.Typer(help="Accounts (people who sign in).", no_args_is_help=True)


@user_app.command("verify")
def user_verify(email: str) -> None:
    """Mark an account's address verified without its emailed link (its mail never came).

    Only a console sign-up on an instance that sends email makes an account
    that waits for this; it cannot sign in until then (docs/identity.md).
    """
    with admin_context() as ctx:
        user, changed = email_verification.verify_by_operator(ctx, email, actor=Actor.cli())
        emit({"id": user.id, "email": user.email, "verified": True, "was_unverified": changed})
