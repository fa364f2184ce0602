"""An org's keys: one current per provider and name, revoked one at a time, and the
admin's choice of key for a model two of them serve."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from chatgrid.context import AppContext
from chatgrid.errors import Conflict, NotFound
from chatgrid.identity.models import BillingMode
from chatgrid.providers.base import (
    ANTHROPIC_BASE_URL,
    GEMINI_BASE_URL,
    Provider,
    UpstreamConfig,
)
from chatgrid.store.credentials import StoredKey, credential_binding
from chatgrid.store.migrate import _alembic_config
from chatgrid.store.tables import credentials


def connect(
    context: AppContext, org_id: str, cred_id: str, provider: Provider, name: str = ""
) -> StoredKey:
    base_url = "http://127.0.0.1:9/v1" if provider is Provider.OPENAI_COMPATIBLE else None
    config = UpstreamConfig.create(provider, base_url=base_url)
    sealed = context.vault.seal(f"sk-{cred_id}-abcdef", binding=credential_binding(org_id, cred_id))
    return context.credentials.replace(org_id, cred_id, config, sealed, ["m"], "test", name=name)


def test_each_provider_and_name_holds_its_own_current_key(context: AppContext) -> None:
    org = context.orgs.create("multi-co", BillingMode.BYOK)
    connect(context, org.id, "cred_local", Provider.OPENAI_COMPATIBLE, "local")
    connect(context, org.id, "cred_claude", Provider.ANTHROPIC)
    connect(context, org.id, "cred_oai_1", Provider.OPENAI)
    connect(context, org.id, "cred_oai_2", Provider.OPENAI)  # rotates the OpenAI key only
    connect(context, org.id, "cred_vllm", Provider.OPENAI_COMPATIBLE, "vllm")
    active = context.credentials.active(org.id)
    assert [(k.id, k.config.provider, k.name) for k in active] == [
        ("cred_oai_2", Provider.OPENAI, ""),
        ("cred_claude", Provider.ANTHROPIC, ""),
        ("cred_local", Provider.OPENAI_COMPATIBLE, "local"),
        ("cred_vllm", Provider.OPENAI_COMPATIBLE, "vllm"),
    ]
    current = context.credentials.current(org.id)
    assert current is not None and current.id == "cred_oai_2"
    assert active[1].config.base_url == ANTHROPIC_BASE_URL
    assert active[0].public()["name"] == ""


def test_the_database_refuses_two_current_keys_for_one_provider_and_name(
    context: AppContext,
) -> None:
    org = context.orgs.create("unique-co", BillingMode.BYOK)
    connect(context, org.id, "cred_a", Provider.GEMINI)
    with context.engine.connect() as conn:
        query = credentials.select().where(credentials.c.id == "cred_a")
        row = dict(conn.execute(query).mappings().one())
    with pytest.raises(IntegrityError), context.engine.begin() as conn:
        conn.execute(credentials.insert().values({**row, "id": "cred_b"}))
    with context.engine.begin() as conn:  # another name is another key
        conn.execute(credentials.insert().values({**row, "id": "cred_c", "name": "other"}))
    assert row["base_url"] == GEMINI_BASE_URL


def test_revoking_names_one_key_and_leaves_the_others(context: AppContext) -> None:
    org = context.orgs.create("revoke-co", BillingMode.BYOK)
    connect(context, org.id, "cred_oai", Provider.OPENAI)
    connect(context, org.id, "cred_local", Provider.OPENAI_COMPATIBLE, "local")
    with pytest.raises(Conflict) as ambiguous:
        context.credentials.revoke(org.id)
    assert ambiguous.value.code == "credential_ambiguous"
    with pytest.raises(NotFound):
        context.credentials.revoke(org.id, Provider.ANTHROPIC)
    revoked = context.credentials.revoke(org.id, Provider.OPENAI_COMPATIBLE, "local")
    assert revoked.id == "cred_local"
    assert [k.id for k in context.credentials.active(org.id)] == ["cred_oai"]
    assert context.credentials.revoke(org.id).id == "cred_oai"  # the only one left
    assert context.credentials.active(org.id) == []


def test_a_broken_key_is_only_that_key(context: AppContext) -> None:
    org = context.orgs.create("broken-co", BillingMode.BYOK)
    connect(context, org.id, "cred_oai", Provider.OPENAI)
    connect(context, org.id, "cred_gem", Provider.GEMINI)
    assert context.credentials.mark_broken(org.id, "cred_gem", "401")
    statuses = {k.id: k.status for k in context.credentials.active(org.id)}
    assert statuses == {"cred_oai": "active", "cred_gem": "broken"}
    assert context.credentials.ended_ids({"cred_oai", "cred_gem"}) == {"cred_gem"}


def test_the_choice_of_key_for_a_model_is_kept_per_org(context: AppContext) -> None:
    org = context.orgs.create("choice-co", BillingMode.BYOK)
    other = context.orgs.create("other-co", BillingMode.BYOK)
    context.credentials.prefer(org.id, "llama3", Provider.OPENAI_COMPATIBLE, "local", "ann")
    context.credentials.prefer(org.id, "llama3", Provider.OPENAI_COMPATIBLE, "vllm", "ann")
    assert context.credentials.choices(org.id) == {"llama3": (Provider.OPENAI_COMPATIBLE, "vllm")}
    assert context.credentials.choices(other.id) == {}
    assert context.credentials.forget_choice(org.id, "llama3")
    assert not context.credentials.forget_choice(org.id, "llama3")


def test_existing_keys_migrate_to_the_unnamed_slot_and_back(context: AppContext) -> None:
    org = context.orgs.create("legacy-co", BillingMode.BYOK)
    connect(context, org.id, "cred_old", Provider.OPENAI)
    _migrate(context, "downgrade", "0019")
    with context.engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM credentials")).scalars().all() == ["cred_old"]
    _migrate(context, "upgrade", "head")
    [stored] = context.credentials.active(org.id)
    assert (stored.id, stored.name) == ("cred_old", "")


def _migrate(context: AppContext, direction: str, revision: str) -> None:
    config = _alembic_config()
    with context.engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, direction)(config, revision)
