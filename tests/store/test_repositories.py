"""Storage on the configured backend (SQLite, or PostgreSQL with CHATGRID_TEST_BACKEND)."""

from __future__ import annotations

import pytest

from chatgrid.context import AppContext
from chatgrid.errors import Conflict, NotFound
from chatgrid.identity.models import BillingMode, Role
from chatgrid.identity.tokens import hash_token
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.credentials import credential_binding
from chatgrid.store.migrate import is_at_head, upgrade_to_head


def test_migrations_reach_head_and_are_idempotent(context: AppContext) -> None:
    assert is_at_head(context.engine)
    upgrade_to_head(context.engine)
    assert is_at_head(context.engine)


def test_orgs_are_found_by_id_or_name_and_names_are_unique(context: AppContext) -> None:
    org = context.orgs.create("storage-co", BillingMode.SHARED)
    assert context.orgs.get("storage-co") == org
    assert context.orgs.get(org.id) == org
    with pytest.raises(Conflict):
        context.orgs.create("storage-co", BillingMode.BYOK)
    with pytest.raises(NotFound):
        context.orgs.get("nope")


def test_members_and_tokens_are_scoped_to_their_org(context: AppContext) -> None:
    a = context.orgs.create("org-a", BillingMode.BYOK)
    b = context.orgs.create("org-b", BillingMode.BYOK)
    alice = context.accounts.add_member_without_password(a.id, "alice@example.com", Role.OWNER)
    assert context.members.find_by_email(a.id, "Alice@Example.com") == alice
    with pytest.raises(Conflict):
        context.accounts.add_member_without_password(a.id, "alice@example.com", Role.MEMBER)
    with pytest.raises(NotFound):
        context.members.get(b.id, alice.id)
    token, plain = context.tokens.create(a.id, alice.id, name="laptop")
    owner = context.tokens.owner_of(hash_token(plain))
    assert owner is not None and owner.org_id == a.id and owner.usable
    assert context.tokens.list(b.id) == []
    with pytest.raises(NotFound):
        context.tokens.revoke(b.id, token.id)
    context.tokens.revoke(a.id, token.id)
    owner = context.tokens.owner_of(hash_token(plain))
    assert owner is not None and not owner.usable
    assert context.members.count_active(a.id) == 1


def test_an_org_has_one_current_credential(context: AppContext) -> None:
    org = context.orgs.create("cred-co", BillingMode.BYOK)
    config = UpstreamConfig.create(Provider.OPENAI)
    for n in range(3):
        cred_id = f"cred_{n}"
        sealed = context.vault.seal(
            f"sk-key-{n}-abcdef", binding=credential_binding(org.id, cred_id)
        )
        context.credentials.replace(org.id, cred_id, config, sealed, ["gpt-4o"], "test")
    current = context.credentials.current(org.id)
    assert current is not None and current.id == "cred_2"
    assert context.vault.open(current.sealed, binding=current.binding) == "sk-key-2-abcdef"
    assert context.credentials.mark_broken(org.id, "cred_2", "401")
    assert not context.credentials.mark_broken(org.id, "cred_1", "401")  # replaced: untouched
    revoked = context.credentials.revoke(org.id)
    assert revoked.id == "cred_2"
    assert context.credentials.current(org.id) is None


def test_seeded_price_book(context: AppContext) -> None:
    book = context.prices.book()
    assert "gpt-4o-mini" in book.models()
    context.prices.seed_defaults()  # idempotent
    assert len(context.prices.book().models()) == len(book.models())
