"""`chatgrid member erase`: it asks first (a "no" changes nothing), `--yes` erases at once
and prints the receipt, and the last owner stays (Typer's runner, on this test's database)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatgrid.audit import AuditFilter
from chatgrid.audit.trail import CLI_ACTOR_EMAIL
from chatgrid.cli import app
from tests.support.cli_runner import Cli
from tests.support.console import open_context
from tests.support.deployment import settings_env


@pytest.fixture
def cli(tmp_path: Path, postgres_database: str | None) -> Cli:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return Cli(settings_env(data_dir, postgres_database))


def emails(cli: Cli, org: str) -> list[str]:
    return [m["email"] for m in cli.ok("member", "list", org)]


def test_an_erasure_asks_first_and_yes_erases_with_a_receipt(cli: Cli) -> None:
    org = cli.ok("org", "create", "forget-co")["id"]
    cli.ok("member", "add", "forget-co", "own@example.com", "--role", "owner")
    cli.ok("member", "add", "forget-co", "eve@example.com")

    answered = CliRunner().invoke(
        app, ["member", "erase", "forget-co", "eve@example.com"], env=cli.env, input="n\n"
    )
    assert answered.exit_code == 1 and "This cannot be undone" in answered.output
    assert "Aborted" in answered.output
    assert "eve@example.com" in emails(cli, "forget-co")  # a "no" changes nothing

    receipt = cli.ok("member", "erase", "forget-co", "eve@example.com", "--yes")

    assert receipt["member"].startswith("mem_") and receipt["account_deleted"] is True
    assert "eve@example.com" not in emails(cli, "forget-co")
    assert "not a member" in cli.refused("member", "erase", "forget-co", "eve@example.com", "--yes")
    assert "last owner" in cli.refused("member", "erase", "forget-co", "own@example.com", "--yes")
    data_dir = Path(cli.env["CHATGRID_DATA_DIR"] or "")
    ctx = open_context(data_dir, cli.env.get("CHATGRID_DATABASE_URL"))
    try:
        (entry,) = ctx.audit.entries(org, AuditFilter(action="member.erased"))
    finally:
        ctx.close()
    assert (entry.actor_email, entry.target) == (CLI_ACTOR_EMAIL, receipt["member"])
    assert entry.details == receipt
