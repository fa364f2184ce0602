"""The ``chatgrid`` command: serve, the simulator, and every admin action.

Admin commands print JSON on success and exit 0; a refused action prints a
plain message on stderr and exits 1. Keys are read from standard input so
they never appear in a shell history or a process list.
"""

from __future__ import annotations

import typer

from chatgrid.cli.alerts import alert_app
from chatgrid.cli.backups import backup, restore
from chatgrid.cli.billing import invoice_app, plan_app
from chatgrid.cli.budgets import budget_app
from chatgrid.cli.domains import domain_app
from chatgrid.cli.export import export
from chatgrid.cli.key_refresh import credential_refresh
from chatgrid.cli.keys import credential_app, pool_app, vault_app
from chatgrid.cli.payments import payments_app
from chatgrid.cli.people import member_app, operator_app, org_app, token_app
from chatgrid.cli.policy import limits_app
from chatgrid.cli.prices import price_app
from chatgrid.cli.reconcile import reconcile, reconcile_key_app
from chatgrid.cli.retention import retention_app
from chatgrid.cli.run import migrate, serve, simulator
from chatgrid.cli.scim import scim_app
from chatgrid.cli.second_factor import mfa_app, org_require_mfa
from chatgrid.cli.service_accounts import service_account_app
from chatgrid.cli.sso import sso_app
from chatgrid.cli.teams import team_app
from chatgrid.cli.usage import usage
from chatgrid.cli.users import user_app

app = typer.Typer(
    help="ChatGrid: an AI workspace and OpenAI-compatible gateway.", no_args_is_help=True
)
for command in (serve, migrate, simulator, usage, reconcile, export, backup, restore):
    app.command()(command)
org_app.command("require-mfa")(org_require_mfa)
credential_app.command("refresh")(credential_refresh)
for sub, name in [
    (org_app, "org"),
    (member_app, "member"),
    (token_app, "token"),
    (credential_app, "credential"),
    (pool_app, "pool"),
    (vault_app, "vault"),
    (limits_app, "limits"),
    (price_app, "price"),
    (operator_app, "operator"),
    (user_app, "user"),
    (plan_app, "plan"),
    (invoice_app, "invoice"),
    (sso_app, "sso"),
    (domain_app, "domain"),
    (mfa_app, "mfa"),
    (scim_app, "scim"),
    (service_account_app, "service-account"),
    (alert_app, "alert"),
    (team_app, "team"),
    (budget_app, "budget"),
    (payments_app, "payments"),
    (retention_app, "retention"),
    (reconcile_key_app, "reconcile-key"),
]:
    app.add_typer(sub, name=name)


def main() -> None:
    app()
