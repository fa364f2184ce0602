"""Team changes racing the member's removal or the team's deletion: whichever wins,
nobody who left the org stays in a team, no membership outlives its team, and
neither side fails (PostgreSQL runs them truly at once; SQLite queues the writers)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

from sqlalchemy import func, select

from chatgrid.admin import members, people, teams
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import NotFound
from chatgrid.identity.models import BillingMode, Role
from chatgrid.store.tables import team_members

ROUNDS = 12


def at_once(*actions: Callable[[], object]) -> list[BaseException]:
    """Run the actions in threads released together; the failures they raised, if any."""
    start = threading.Barrier(len(actions))
    failures: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        start.wait()
        try:
            action()
        except NotFound:
            pass  # the other side won: the team or the member is gone
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_a_member_removed_while_being_added_to_a_team_is_in_no_team(
    context: AppContext,
) -> None:
    org = context.orgs.create("racing-removal", BillingMode.BYOK)
    owner = people.add_member(context, org.id, "owner@example.com", Role.OWNER)
    team = teams.create_team(context, org.id, Actor.cli(), "Racers")
    for n in range(ROUNDS):
        member = people.add_member(context, org.id, f"racer{n}@example.com", Role.MEMBER)
        failures = at_once(
            partial(teams.add_member, context, org.id, Actor.cli(), team.id, member),
            partial(members.remove_member, context, org, owner, Actor.cli(), member.id),
        )
        assert failures == []
        assert teams.teams_of(context, org.id, member.id) == []
    assert teams.team_members(context, org.id, team.id) == []


def test_a_team_deleted_while_a_member_is_added_leaves_no_membership(
    context: AppContext,
) -> None:
    org = context.orgs.create("racing-deletion", BillingMode.BYOK)
    member = people.add_member(context, org.id, "stays@example.com", Role.MEMBER)
    for n in range(ROUNDS):
        team = teams.create_team(context, org.id, Actor.cli(), f"Short-lived {n}")
        failures = at_once(
            partial(teams.add_member, context, org.id, Actor.cli(), team.id, member),
            partial(teams.delete_team, context, org.id, Actor.cli(), team.id),
        )
        assert failures == []
    assert teams.list_teams(context, org.id) == []
    with context.engine.connect() as conn:
        left = conn.execute(select(func.count()).select_from(team_members)).scalar_one()
    assert left == 0
