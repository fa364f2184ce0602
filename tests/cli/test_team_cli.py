"""`chatgrid team ...` as the operator runs it.

One journey runs the real command in its own process; the refusals and the
audit run the same commands in-process (Typer's runner).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chatgrid.admin import members
from chatgrid.audit import Actor, AuditFilter
from chatgrid.audit.trail import CLI_ACTOR_EMAIL
from tests.support.cli_runner import Cli
from tests.support.console import open_context
from tests.support.deployment import settings_env
from tests.support.processes import ChatGridInstance, instance_env


@pytest.fixture
def env(tmp_path: Path, postgres_database: str | None) -> dict[str, str]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return settings_env(data_dir, postgres_database)


def test_a_team_is_created_filled_renamed_listed_and_deleted(env: dict[str, str]) -> None:
    admin = ChatGridInstance(env=instance_env(env), data_dir=Path(env["CHATGRID_DATA_DIR"]))

    def run(*args: str) -> Any:
        result = admin.cli(*args)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    run("org", "create", "team-co")
    run("member", "add", "team-co", "ann@example.com")
    run("member", "add", "team-co", "ben@example.com")
    created = run("team", "create", "team-co", " Platform ")
    assert created["name"] == "Platform" and created["id"].startswith("team_")
    assert created["member_count"] == 0
    added = run("team", "add", "team-co", "Platform", "Ann@Example.com")
    assert (added["team"], added["email"], added["added"]) == (
        created["id"],
        "ann@example.com",
        True,
    )
    run("team", "add", "team-co", created["id"], "ben@example.com")
    run("team", "create", "team-co", "Data")
    run("team", "add", "team-co", "Data", "ann@example.com")  # ann is in two teams
    renamed = run("team", "rename", "team-co", "Platform", "Infrastructure")
    assert (renamed["id"], renamed["name"], renamed["member_count"]) == (
        created["id"],
        "Infrastructure",
        2,
    )
    listed = run("team", "list", "team-co")
    assert [(t["name"], t["member_count"]) for t in listed] == [("Data", 1), ("Infrastructure", 2)]
    people = run("team", "members", "team-co", "Infrastructure")
    assert [p["email"] for p in people] == ["ann@example.com", "ben@example.com"]
    removed = run("team", "remove", "team-co", "Infrastructure", "ben@example.com")
    assert removed["removed"] is True
    assert [p["email"] for p in run("team", "members", "team-co", "Infrastructure")] == [
        "ann@example.com"
    ]
    assert run("team", "delete", "team-co", "Infrastructure") == {
        "id": created["id"],
        "name": "Infrastructure",
        "deleted": True,
    }
    assert [t["name"] for t in run("team", "list", "team-co")] == ["Data"]


def test_refusals_are_plain_messages(env: dict[str, str]) -> None:
    cli = Cli(env)
    cli.ok("org", "create", "plain-team-co")
    cli.ok("org", "create", "other-team-co")
    cli.ok("member", "add", "plain-team-co", "cid@example.com")
    cli.ok("member", "add", "other-team-co", "out@example.com")
    cli.ok("team", "create", "plain-team-co", "Ops")
    assert "a team named 'Ops' exists already" in cli.refused(
        "team", "create", "plain-team-co", "Ops"
    )
    assert "1 to 100 characters" in cli.refused("team", "create", "plain-team-co", "x" * 101)
    assert "1 to 100 characters" in cli.refused("team", "rename", "plain-team-co", "Ops", " ")
    assert "no team 'Nobody'" in cli.refused("team", "add", "plain-team-co", "Nobody", "cid@x.io")
    assert "no team 'Ops'" in cli.refused("team", "members", "other-team-co", "Ops")
    assert "out@example.com is not a member of this org" in cli.refused(
        "team", "add", "plain-team-co", "Ops", "out@example.com"
    )
    assert "no org 'nobody'" in cli.refused("team", "list", "nobody")
    assert cli.ok("team", "list", "other-team-co") == []


def test_every_change_is_audited_and_a_removed_member_leaves_their_teams(
    env: dict[str, str], tmp_path: Path
) -> None:
    cli = Cli(env)
    org = cli.ok("org", "create", "audited-team-co")["id"]
    owner = cli.ok("member", "add", "audited-team-co", "own@example.com", "--role", "owner")
    dee = cli.ok("member", "add", "audited-team-co", "dee@example.com")
    team = cli.ok("team", "create", "audited-team-co", "Red")
    cli.ok("team", "create", "audited-team-co", "Blue")
    cli.ok("team", "add", "audited-team-co", "Red", "dee@example.com")
    assert cli.ok("team", "add", "audited-team-co", "Red", "dee@example.com")["added"] is False
    cli.ok("team", "add", "audited-team-co", "Blue", "dee@example.com")
    cli.ok("team", "rename", "audited-team-co", "Red", "Crimson")
    cli.ok("team", "remove", "audited-team-co", "Crimson", "dee@example.com")
    cli.ok("team", "delete", "audited-team-co", "Crimson")

    ctx = open_context(Path(env["CHATGRID_DATA_DIR"]), env.get("CHATGRID_DATABASE_URL"))
    try:
        entries = list(reversed(ctx.audit.entries(org, AuditFilter(action="team."))))
        assert [(e.action, e.actor_email) for e in entries] == [
            ("team.created", CLI_ACTOR_EMAIL),
            ("team.created", CLI_ACTOR_EMAIL),
            ("team.member_added", CLI_ACTOR_EMAIL),
            ("team.member_added", CLI_ACTOR_EMAIL),
            ("team.renamed", CLI_ACTOR_EMAIL),
            ("team.member_removed", CLI_ACTOR_EMAIL),
            ("team.deleted", CLI_ACTOR_EMAIL),
        ]
        assert entries[4].target == team["id"]
        # dee leaves the org (as the console's removal does): she leaves Blue too.
        owner_member = ctx.members.get(org, owner["id"])
        members.remove_member(ctx, ctx.orgs.by_id(org), owner_member, Actor.cli(), dee["id"])
    finally:
        ctx.close()
    assert cli.ok("team", "members", "audited-team-co", "Blue") == []
    assert cli.ok("team", "list", "audited-team-co")[0]["member_count"] == 0


def test_a_team_follows_a_scim_group_and_stops(env: dict[str, str]) -> None:
    cli = Cli(env)
    cli.ok("org", "create", "follow-co")
    cli.ok("member", "add", "follow-co", "fay@example.com")
    cli.ok("team", "create", "follow-co", "Eng")
    cli.ok("team", "add", "follow-co", "Eng", "fay@example.com")
    followed = cli.ok("team", "follow-group", "follow-co", "Eng", "Engineering")
    # No such group pushed yet: the team mirrors an empty group.
    assert (followed["scim_group"], followed["member_count"]) == ("Engineering", 0)
    assert "follows the SCIM group 'Engineering'" in cli.refused(
        "team", "add", "follow-co", "Eng", "fay@example.com"
    )
    stopped = cli.ok("team", "unfollow-group", "follow-co", "Eng")
    assert stopped["scim_group"] is None
    assert cli.ok("team", "add", "follow-co", "Eng", "fay@example.com")["added"] is True
