"""The org rule from the command line and the console: one function, one audit shape;
and the operator's reset of a lost second factor."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner, Result

from chatgrid.audit import AuditEntry, AuditFilter
from chatgrid.cli import app
from chatgrid.context import AppContext
from tests.support.console import World, build_world
from tests.support.second_factor import Clock, code_step, password_step, set_up


@pytest.fixture
def world(context: AppContext) -> World:
    world = build_world(context)
    world.app.state.console.clock = Clock()
    return world


def cli(ctx: AppContext, *args: str) -> Result:
    settings = ctx.settings
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CHATGRID_")}
    env["CHATGRID_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["CHATGRID_DATABASE_URL"] = settings.database_url
    return CliRunner().invoke(app, list(args), env=env)


def rule_entries(world: World) -> list[AuditEntry]:
    return world.ctx.audit.entries(world.org_a, AuditFilter(action="org.second_factor_rule"))


def test_the_rule_is_one_action_from_either_door(world: World) -> None:
    clock: Clock = world.app.state.console.clock
    on = cli(world.ctx, "org", "require-mfa", world.org_a, "--on")
    assert on.exit_code == 0, on.output
    assert json.loads(on.output) == {
        "id": world.org_a,
        "second_factor_required": True,
        "changed": True,
    }
    assert world.ctx.second_factors.required(world.org_a)
    # The owner has no second factor yet: the org's pages send her to set it up.
    assert world.alice.browser.api("GET", f"/api/orgs/{world.org_a}").status_code == 403
    set_up(world.alice.browser, clock)
    off = world.alice.browser.api(
        "PUT", f"/api/orgs/{world.org_a}/second-factor", {"required": False}
    )
    assert off.status_code == 200
    from_web, from_cli = rule_entries(world)
    assert from_cli.actor_email == "cli" and from_web.actor_email == world.alice.email
    assert from_cli.details.keys() == from_web.details.keys()
    assert (from_cli.target, from_web.target) == (world.org_a, world.org_a)
    assert cli(world.ctx, "org", "require-mfa", "no-such-org", "--on").exit_code == 1
    assert cli(world.ctx, "org", "require-mfa", world.org_a).exit_code != 0  # --on or --off


def test_the_operator_resets_a_lost_second_factor(world: World) -> None:
    clock: Clock = world.app.state.console.clock
    secret, codes = set_up(world.bob.browser, clock)
    reset = cli(world.ctx, "mfa", "reset", world.bob.email.upper())
    assert reset.exit_code == 0, reset.output
    assert json.loads(reset.output)["second_factor"] is False
    assert not world.ctx.second_factors.enabled(world.bob.user_id)
    assert world.bob.browser.api("GET", "/api/session").status_code == 401  # sessions ended
    fresh = world.browser()
    fresh.sign_in(world.bob.email)  # the password alone again
    (entry,) = world.ctx.audit.entries(world.org_a, AuditFilter(action="second_factor.reset"))
    assert entry.actor_email == "cli"
    assert entry.details == {"email": world.bob.email, "was_on": True, "sessions_ended": 1}
    assert cli(world.ctx, "mfa", "reset", "nobody@example.com").exit_code == 1
    # Set up again: a new seed, and the old recovery codes stay dead.
    assert set_up(fresh, clock)[0] != secret
    other = world.browser()
    assert code_step(other, password_step(other, world.bob.email), codes[0]).status_code == 401
