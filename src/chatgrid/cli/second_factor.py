"""Two-step sign-in from the command line: the org rule, and a reset for a lost phone."""

from __future__ import annotations

from typing import Annotated

import typer

from chatgrid.admin import second_factor
from chatgrid.audit import Actor
from chatgrid.cli.common import OrgArg, admin_context, emit

mfa_app = typer.Typer(help="Two-step sign-in (TOTP) of password accounts.", no_args_is_help=True)


def org_require_mfa(
    org: OrgArg,
    on: Annotated[
        bool,
        typer.Option(
            "--on/--off", help="Require two-step sign-in of the org's password users, or stop."
        ),
    ],
) -> None:
    """Require two-step sign-in of every member who signs in with a password (or stop).

    In force at once, for sessions already open too: such a member without it
    is sent to set it up before reaching the org. API tokens are not affected.
    """
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        changed = second_factor.set_org_rule(ctx, org_id, Actor.cli(), on)
        emit({"id": org_id, "second_factor_required": on, "changed": changed})


@mfa_app.command("reset")
def mfa_reset(email: str) -> None:
    """Turn someone's two-step sign-in off (lost phone and recovery codes); their sessions end.

    They sign in with their password alone next, and set it up again where an
    org requires it.
    """
    with admin_context() as ctx:
        user = second_factor.reset(ctx, email, actor=Actor.cli())
        emit({"id": user.id, "email": user.email, "second_factor": False})
