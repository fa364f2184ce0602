"""An org's rate limits and allowed models, and whether a model titles its conversations."""

from __future__ import annotations

from typing import Annotated

import typer

from chatgrid.admin import chat_settings, operator, org_settings
from chatgrid.audit import Actor
from chatgrid.cli.common import OrgArg, admin_context, emit

limits_app = typer.Typer(help="An org's rate limits and allowed models.", no_args_is_help=True)


def _limit(value: int | None) -> int | None:
    """0 on the command line clears a limit."""
    return None if value in (None, 0) else value


@limits_app.command("set")
def limits_set(
    org: OrgArg,
    org_rpm: Annotated[
        int | None, typer.Option(help="Requests/minute for the org (0 clears).")
    ] = None,
    org_tpm: Annotated[
        int | None, typer.Option(help="Tokens/minute for the org (0 clears).")
    ] = None,
    member_rpm: Annotated[int | None, typer.Option(help="Requests/minute per member.")] = None,
    member_tpm: Annotated[int | None, typer.Option(help="Tokens/minute per member.")] = None,
    member_concurrency: Annotated[
        int | None, typer.Option(help="Calls in flight per member.")
    ] = None,
    models: Annotated[
        str | None, typer.Option(help="Comma-separated models members may use; 'all' clears.")
    ] = None,
) -> None:
    """Change an org's limits; options not given keep their value."""
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        current = ctx.policies.get(org_id)
        changes: dict[str, object] = {}
        for name, value in [
            ("org_rpm", org_rpm),
            ("org_tpm", org_tpm),
            ("member_rpm", member_rpm),
            ("member_tpm", member_tpm),
            ("member_concurrency", member_concurrency),
        ]:
            if value is not None:
                changes[name] = _limit(value)
        if models is not None:
            names = [m.strip() for m in models.split(",") if m.strip()]
            changes["allowed_models"] = None if names == ["all"] else frozenset(names)
        policy = org_settings.update_policy(
            ctx, org_id, Actor.cli(), current.with_changes(**changes)
        )
        emit(policy.public())


@limits_app.command("titles")
def limits_titles(
    org: OrgArg,
    on: Annotated[
        bool | None,
        typer.Option("--on/--off", help="Generated conversation titles on or off."),
    ] = None,
) -> None:
    """Show, or turn on or off, conversation titles made by CHATGRID_TITLE_MODEL.

    One small call per new conversation, billed to the org; until an admin
    chooses, on for shared credits and off for BYOK.
    """
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        if on is None:
            found = chat_settings.chat_settings(ctx, org_id)
        else:
            found = chat_settings.set_generated_titles(ctx, org_id, Actor.cli(), on)
        emit(
            {
                "id": org_id,
                "generated_titles": found.generated_titles,
                "chosen": found.chosen,
                "title_model": found.title_model,
            }
        )


@limits_app.command("show")
def limits_show(org: OrgArg) -> None:
    """Show an org's limits and allowed models, and the operator's limits on it."""
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        operator = ctx.policies.operator(org_id).public()
        emit(
            {
                **ctx.policies.get(org_id).public(),
                "operator": {k: v for k, v in operator.items() if k.endswith(("rpm", "tpm"))},
            }
        )


@limits_app.command("operator-set")
def limits_operator_set(
    org: OrgArg,
    org_rpm: Annotated[int | None, typer.Option(help="Requests/minute, org (0 clears).")] = None,
    org_tpm: Annotated[int | None, typer.Option(help="Tokens/minute, org (0 clears).")] = None,
    member_rpm: Annotated[int | None, typer.Option(help="Requests/minute per member.")] = None,
    member_tpm: Annotated[int | None, typer.Option(help="Tokens/minute per member.")] = None,
) -> None:
    """Operator: limits on a shared-credit org, on top of its admin's; unset options keep theirs."""
    with admin_context() as ctx:
        org_id = ctx.orgs.get(org).id
        changes = {
            name: _limit(value)
            for name, value in [
                ("org_rpm", org_rpm),
                ("org_tpm", org_tpm),
                ("member_rpm", member_rpm),
                ("member_tpm", member_tpm),
            ]
            if value is not None
        }
        limits = {**operator.operator_limits(ctx, org_id), **changes}
        emit(operator.set_operator_limits(ctx, Actor.cli(), org_id, limits))
