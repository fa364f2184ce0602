"""`chatgrid budget ...` as the operator runs it (in-process, Typer's runner)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatgrid.audit import AuditFilter
from tests.support.cli_runner import Cli
from tests.support.console import open_context
from tests.support.deployment import settings_env


@pytest.fixture
def cli(tmp_path: Path, postgres_database: str | None) -> Cli:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return Cli(settings_env(data_dir, postgres_database))


def test_budgets_are_set_listed_replaced_and_removed(cli: Cli) -> None:
    cli.ok("org", "create", "budget-co")
    cli.ok("member", "add", "budget-co", "ann@example.com")
    cli.ok("team", "create", "budget-co", "Platform")
    cli.ok("team", "add", "budget-co", "Platform", "ann@example.com")

    org_wide = cli.ok("budget", "set", "budget-co", "--org", "--usd", "100", "--soft")
    assert (org_wide["scope"], org_wide["enforcement"], org_wide["limit_usd"]) == (
        "org",
        "soft",
        "100.000000",
    )
    team = cli.ok(
        "budget", "set", "budget-co", "--team", "Platform", "--usd", "0.50", "--thresholds", "90"
    )
    assert (team["subject"], team["thresholds"], team["spent_micros"]) == ("Platform", [90], 0)
    member = cli.ok("budget", "set", "budget-co", "--member", "Ann@Example.com", "--usd", "0.2")
    assert (member["subject"], member["enforcement"], member["limit_micros"]) == (
        "ann@example.com",
        "hard",
        200_000,
    )
    again = cli.ok("budget", "set", "budget-co", "--member", "ann@example.com", "--usd", "0.3")
    assert again["id"] == member["id"] and again["limit_micros"] == 300_000

    listed = cli.ok("budget", "list", "budget-co")
    assert [(b["scope"], b["subject"]) for b in listed] == [
        ("org", "budget-co"),
        ("team", "Platform"),
        ("member", "ann@example.com"),
    ]
    removed = cli.ok("budget", "remove", "budget-co", "--team", "Platform")
    assert removed == {"removed": team["id"], "scope": "team"}
    assert len(cli.ok("budget", "list", "budget-co")) == 2

    env = cli.env
    ctx = open_context(Path(str(env["CHATGRID_DATA_DIR"])), env.get("CHATGRID_DATABASE_URL"))
    try:
        org_id = ctx.orgs.get("budget-co").id
        actions = [e.action for e in ctx.audit.entries(org_id, AuditFilter(action="budget."))]
    finally:
        ctx.close()
    assert actions.count("budget.set") == 4 and actions.count("budget.removed") == 1


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--usd", "1"], "exactly one of --org"),
        (["--org", "--team", "x", "--usd", "1"], "exactly one of --org"),
        (["--org", "--usd", "abc"], "decimal number of dollars"),
        (["--org", "--usd", "-1"], "non-negative"),
        (["--org", "--usd", "2000000000"], "$1,000,000,000"),
        (["--org", "--usd", "1", "--thresholds", "0,50"], "whole percentages"),
        (["--team", "nobody", "--usd", "1"], "no team"),
        (["--member", "ghost@example.com", "--usd", "1"], "not a member"),
    ],
)
def test_bad_budgets_are_refused_plainly(cli: Cli, args: list[str], says: str) -> None:
    cli.ok("org", "create", "budget-co")
    assert says in cli.refused("budget", "set", "budget-co", *args)
    assert cli.ok("budget", "list", "budget-co") == []
