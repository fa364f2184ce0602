"""Domain claims on the configured backend: one verified holder per domain, kept by the database."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.context import AppContext
from chatgrid.errors import Conflict, NotFound
from chatgrid.identity.domains import new_challenge_token
from chatgrid.identity.models import BillingMode
from chatgrid.store.tables import email_domains, metadata


def two_orgs(ctx: AppContext) -> tuple[str, str]:
    return (
        ctx.orgs.create("domain-a", BillingMode.BYOK).id,
        ctx.orgs.create("domain-b", BillingMode.BYOK).id,
    )


def test_the_migration_builds_the_table_the_code_describes(context: AppContext) -> None:
    with context.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    ours = [d for d in differences if "email_domains" in repr(d)]
    assert ours == []


def test_several_orgs_may_claim_a_domain_once_each(context: AppContext) -> None:
    a, b = two_orgs(context)
    first = context.domains.claim(a, "example.com", new_challenge_token(), created_by="x", limit=5)
    second = context.domains.claim(
        b, "example.com", new_challenge_token(), created_by=None, limit=5
    )
    assert first.token != second.token and first.id != second.id
    with pytest.raises(Conflict) as again:
        context.domains.claim(a, "example.com", new_challenge_token(), created_by="x", limit=5)
    assert again.value.code == "domain_claimed"
    assert [c.id for c in context.domains.list(a)] == [first.id]
    assert context.domains.find(b, "example.com") == second


def test_a_claim_is_found_only_in_its_own_org(context: AppContext) -> None:
    a, b = two_orgs(context)
    claim = context.domains.claim(a, "example.org", new_challenge_token(), created_by=None, limit=5)
    with pytest.raises(NotFound):
        context.domains.get(b, claim.id)
    with pytest.raises(NotFound):
        context.domains.find(b, "example.org")
    with pytest.raises(NotFound):
        context.domains.remove(b, claim.id)
    with pytest.raises(NotFound):
        context.domains.mark_verified(b, claim.id)
    assert context.domains.get(a, claim.id) == claim


def test_an_org_holds_at_most_its_limit_of_claims(context: AppContext) -> None:
    a, b = two_orgs(context)
    for n in range(3):
        context.domains.claim(a, f"d{n}.example", new_challenge_token(), created_by=None, limit=3)
    with pytest.raises(Conflict) as full:
        context.domains.claim(a, "d3.example", new_challenge_token(), created_by=None, limit=3)
    assert full.value.code == "domain_limit" and "at most 3 domains" in full.value.message
    assert len(context.domains.list(a)) == 3  # the refused claim left no row
    context.domains.claim(b, "d3.example", new_challenge_token(), created_by=None, limit=3)


def test_claims_racing_for_the_last_place_do_not_both_get_it(context: AppContext) -> None:
    a, _b = two_orgs(context)
    context.domains.claim(a, "first.example", new_challenge_token(), created_by=None, limit=2)
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def claim(n: int) -> None:
        start.wait()
        try:
            context.domains.claim(
                a, f"r{n}.example", new_challenge_token(), created_by=None, limit=2
            )
            outcomes.append("claimed")
        except Conflict as refused:
            outcomes.append(str(refused.code))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["claimed", "domain_limit", "domain_limit", "domain_limit"]
    assert len(context.domains.list(a)) == 2


def test_a_domain_is_verified_for_one_org_at_a_time(context: AppContext) -> None:
    a, b = two_orgs(context)
    mine = context.domains.claim(
        a, "shared.example", new_challenge_token(), created_by=None, limit=5
    )
    theirs = context.domains.claim(
        b, "shared.example", new_challenge_token(), created_by=None, limit=5
    )
    assert context.domains.verified_owner("shared.example") is None
    verified = context.domains.mark_verified(a, mine.id)
    assert verified.verified and verified.verified_at is not None
    assert context.domains.verified_owner("shared.example") == a
    with pytest.raises(Conflict) as taken:
        context.domains.mark_verified(b, theirs.id)
    assert taken.value.code == "domain_taken"
    assert "already verified by another organization" in taken.value.message
    assert not context.domains.get(b, theirs.id).verified  # nothing half-written
    context.domains.remove(a, mine.id)
    assert context.domains.verified_owner("shared.example") is None
    context.domains.mark_verified(b, theirs.id)
    assert context.domains.verified_owner("shared.example") == b


def test_the_database_itself_refuses_a_second_verified_holder(context: AppContext) -> None:
    """Whatever code runs, the unique column keeps the promise (and the check keeps it honest)."""
    a, b = two_orgs(context)
    for org in (a, b):
        context.domains.claim(org, "raw.example", new_challenge_token(), created_by=None, limit=5)
    with context.engine.begin() as conn:
        conn.execute(
            update(email_domains)
            .where(email_domains.c.org_id == a)
            .values(verified_domain=email_domains.c.domain)
        )
    with pytest.raises(IntegrityError), context.engine.begin() as conn:
        conn.execute(
            update(email_domains)
            .where(email_domains.c.org_id == b)
            .values(verified_domain=email_domains.c.domain)
        )
    with pytest.raises(IntegrityError), context.engine.begin() as conn:
        conn.execute(
            update(email_domains)
            .where(email_domains.c.org_id == b)
            .values(verified_domain="other.example")
        )
    with context.engine.connect() as conn:
        held = conn.execute(
            select(func.count()).where(email_domains.c.verified_domain.is_not(None))
        ).scalar_one()
    assert held == 1


def test_the_owner_lookup_knows_exact_verified_names_only(context: AppContext) -> None:
    a, _b = two_orgs(context)
    claim = context.domains.claim(
        a, "corp.example", new_challenge_token(), created_by=None, limit=5
    )
    context.domains.claim(a, "pending.example", new_challenge_token(), created_by=None, limit=5)
    context.domains.mark_verified(a, claim.id)
    assert context.domains.verified_owner("corp.example") == a
    assert context.domains.verified_owner("mail.corp.example") is None
    assert context.domains.verified_owner("pending.example") is None
    assert context.domains.verified_owner("nobody.example") is None
