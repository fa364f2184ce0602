"""Service accounts as admin actions: made, listed, rotated and revoked, each audited,
and what a presented token resolves to (the gateway's caller, the admin API's actor)."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from chatgrid.admin import service_accounts as sa
from chatgrid.audit import Actor, AuditFilter
from chatgrid.context import AppContext
from chatgrid.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
)
from chatgrid.gateway.directory import Caller, Directory
from chatgrid.identity.models import BillingMode, Org, Role
from chatgrid.identity.tokens import hash_token
from chatgrid.store.tables import metadata, service_account_tokens

ALICE = Actor(user_id="usr_alice", email="alice@example.com")


def an_org(ctx: AppContext, name: str = "robots") -> Org:
    return ctx.orgs.create(name, BillingMode.BYOK)


def test_the_migration_builds_the_tables_the_code_describes(context: AppContext) -> None:
    with context.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences if "service_account" in repr(d)] == []


def test_a_token_is_shown_once_and_stored_only_as_its_hash(context: AppContext) -> None:
    org = an_org(context)
    account, secret = sa.create_service_account(context, org, ALICE, " nightly-eval ", "v1")
    assert secret.startswith("cgsa_") and account.name == "nightly-eval"
    assert account.token_prefix == secret[:12] and account.scope == "v1"
    with context.engine.connect() as conn:
        rows = [str(tuple(r)) for r in conn.execute(select(service_account_tokens))]
    assert len(rows) == 1 and secret not in rows[0] and hash_token(secret) in rows[0]
    entries = context.audit.entries(org.id, AuditFilter(action="service_account."))
    assert [(e.action, e.actor_email, e.details["name"]) for e in entries] == [
        ("service_account.created", "alice@example.com", "nightly-eval")
    ]


def test_names_scopes_and_duplicates_are_refused_plainly(context: AppContext) -> None:
    org = an_org(context)
    sa.create_service_account(context, org, ALICE, "ci", "admin")
    with pytest.raises(Conflict):
        sa.create_service_account(context, org, ALICE, "ci", "v1")
    for name, scope in [("", "v1"), ("x" * 101, "v1"), ("a\nb", "v1"), ("ok", "root")]:
        with pytest.raises(InvalidRequest):
            sa.create_service_account(context, org, ALICE, name, scope)


def test_a_v1_token_is_a_caller_of_its_own_until_rotated_or_revoked(context: AppContext) -> None:
    org = an_org(context)
    account, first = sa.create_service_account(context, org, ALICE, "batch", "v1")
    directory = Directory(context)

    def caller(secret: str) -> Caller | None:
        directory.invalidate()
        return asyncio.run(directory.caller(hash_token(secret)))

    found = caller(first)
    assert found is not None
    assert (found.org_id, found.member_id) == (org.id, account.id)
    assert found.token_id == account.token_id
    rotated, second = sa.rotate_service_account(context, org, ALICE, account.id)
    assert caller(first) is None and caller(second) is not None
    assert rotated.token_id != account.token_id
    sa.revoke_service_account(context, org, ALICE, account.id)
    assert caller(second) is None
    with pytest.raises(NotFound):
        sa.revoke_service_account(context, org, ALICE, account.id)
    with pytest.raises(NotFound):
        sa.rotate_service_account(context, org, ALICE, account.id)
    actions = [
        e.action for e in context.audit.entries(org.id, AuditFilter(action="service_account."))
    ]
    assert sorted(actions) == sorted(
        ["service_account.created", "service_account.rotated", "service_account.revoked"]
    )


def test_an_admin_token_is_no_v1_caller_and_a_v1_token_no_admin(context: AppContext) -> None:
    org = an_org(context)
    admin, admin_secret = sa.create_service_account(context, org, ALICE, "ops", "admin")
    _, v1_secret = sa.create_service_account(context, org, ALICE, "app", "v1")
    assert asyncio.run(Directory(context).caller(hash_token(admin_secret))) is None
    assert sa.admin_bearer(context, admin_secret) == admin
    with pytest.raises(PermissionDenied):
        sa.admin_bearer(context, v1_secret)
    for wrong in ["", "cgk_nothing", "cgsa_unknown", admin_secret + "x"]:
        with pytest.raises(AuthenticationFailed):
            sa.admin_bearer(context, wrong)
    actor = sa.service_actor(admin)
    assert actor.email == "service-account:ops" and actor.user_id == admin.id
    assert sa.acting_member(admin).role is Role.ADMIN


def test_an_account_is_found_only_in_its_own_org(context: AppContext) -> None:
    a, b = an_org(context, "a"), an_org(context, "b")
    account, _ = sa.create_service_account(context, a, ALICE, "bot", "v1")
    assert sa.find_service_account(context, a, "bot") == account
    assert sa.find_service_account(context, a, account.id) == account
    for name_or_id in ["bot", account.id]:
        with pytest.raises(NotFound):
            sa.find_service_account(context, b, name_or_id)
    with pytest.raises(NotFound):
        sa.revoke_service_account(context, b, ALICE, account.id)
    assert sa.list_service_accounts(context, b) == []
