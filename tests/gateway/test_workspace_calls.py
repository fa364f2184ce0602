"""The workspace's calls go through admission and the relay directly, in process.

A refusal is the exception admission (or the relay, judging the upstream's
answer) raised — its own type, not one rebuilt from an HTTP status — and a
reader who leaves early still leaves behind a drained, ledgered call. The
gateway here is the real one, on a migrated database, calling the real
simulator over HTTP.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from chatgrid.admin import keys, people
from chatgrid.admin.billing import set_member_cap
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import (
    CredentialUnusable,
    QuotaExhausted,
    TrialEnded,
    UpstreamFailed,
    UpstreamKeyRejected,
)
from chatgrid.gateway.workspace import WorkspaceGateway
from chatgrid.identity.models import BillingMode, Role
from chatgrid.limits.policy import OrgPolicy
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.tables import orgs
from chatgrid.store.types import utcnow
from tests.support.processes import RunningProcess
from tests.support.workspace_gateway import chat, run


@pytest.fixture
def byok_org(context: AppContext, simulator: RunningProcess) -> tuple[str, str]:
    """A BYOK org with a key on the simulator, and its owner's member id."""
    org = people.create_org(context, f"org-{secrets.token_hex(4)}", BillingMode.BYOK)
    member = people.add_member(context, org.id, "alice@example.com", Role.OWNER)
    upstream = UpstreamConfig.create(Provider.OPENAI, base_url=f"{simulator.base_url}/v1")
    asyncio.run(keys.set_credential(context, org.id, upstream, "sk-byok-workspace-0123456789"))
    return org.id, member.id


async def read_into(seen: list[str], pieces: AsyncIterator[str]) -> None:
    async for piece in pieces:
        seen.append(piece)


def test_an_answer_arrives_as_text_and_names_its_ledger_row(
    context: AppContext, byok_org: tuple[str, str]
) -> None:
    org_id, member_id = byok_org

    async def scenario(workspace: WorkspaceGateway) -> tuple[str, str | None]:
        async with workspace.chat_stream(org_id, member_id, chat("[sim:echo]hello there")) as s:
            text = "".join([piece async for piece in s.deltas()])
        return text, s.call_id

    text, call_id = run(context, scenario)
    assert text == "hello there"
    [entry] = context.usage.entries(org_id)
    assert (entry["call_id"], entry["outcome"], entry["token_id"]) == (call_id, "ok", "workspace")
    assert entry["member_id"] == member_id and entry["stream"]
    assert not entry["usage_estimated"]


def test_embeddings_come_back_as_vectors_in_input_order(
    context: AppContext, byok_org: tuple[str, str]
) -> None:
    org_id, member_id = byok_org
    settings = context.settings

    async def scenario(workspace: WorkspaceGateway) -> tuple[list[bytes], str | None]:
        return await workspace.embed(
            org_id,
            member_id,
            ["first", "second", "third"],
            settings.embedding_model,
            settings.embedding_dimensions,
        )

    vectors, call_id = run(context, scenario)
    assert len(vectors) == 3
    assert all(len(v) == settings.embedding_dimensions * 4 for v in vectors)
    assert len(set(vectors)) == 3
    [entry] = context.usage.entries(org_id)
    assert entry["call_id"] == call_id and entry["endpoint"] == "embeddings"


def test_a_refusal_is_the_exception_admission_raised_and_costs_nothing(
    context: AppContext, byok_org: tuple[str, str]
) -> None:
    org_id, member_id = byok_org
    with context.engine.begin() as conn:
        conn.execute(
            update(orgs).where(orgs.c.id == org_id).values(trial_ends_at=utcnow() - timedelta(1))
        )
    context.changes.bump()

    async def scenario(workspace: WorkspaceGateway) -> list[BaseException]:
        refusals: list[BaseException] = []
        with pytest.raises(TrialEnded) as chat_refusal:
            async with workspace.chat_stream(org_id, member_id, chat("hello")):
                pass
        refusals.append(chat_refusal.value)
        with pytest.raises(TrialEnded) as embed_refusal:
            await workspace.embed(org_id, member_id, ["hello"], "text-embedding-3-small", 8)
        refusals.append(embed_refusal.value)
        with pytest.raises(TrialEnded):
            await workspace.models(org_id, member_id)
        return refusals

    refusals = run(context, scenario)
    assert all(type(r) is TrialEnded and r.code == "trial_ended" for r in refusals)
    assert context.usage.entries(org_id) == []


def test_each_refusal_is_an_exception_of_its_own(context: AppContext) -> None:
    """One instance raised again would keep every traceback (and its frames) it was raised with."""
    org = people.create_org(context, f"org-{secrets.token_hex(4)}", BillingMode.BYOK)
    member = people.add_member(context, org.id, "carol@example.com", Role.OWNER)

    async def scenario(workspace: WorkspaceGateway) -> list[CredentialUnusable]:
        refusals = []
        for _ in range(2):
            with pytest.raises(CredentialUnusable) as refused:
                await workspace.embed(org.id, member.id, ["hi"], "text-embedding-3-small", 8)
            refusals.append(refused.value)
        return refusals

    first, second = run(context, scenario)
    assert first is not second
    assert first.code == second.code == "no_upstream_credential"


def test_a_call_refused_part_way_through_admission_holds_nothing(
    context: AppContext, simulator: RunningProcess
) -> None:
    """The member's one concurrent call is taken before the cap refuses: it is given back."""
    upstream = UpstreamConfig.create(Provider.OPENAI, base_url=f"{simulator.base_url}/v1")
    asyncio.run(keys.add_pool_key(context, "pool", upstream, "sk-pool-admission-0123456789"))
    org = people.create_org(context, f"org-{secrets.token_hex(4)}", BillingMode.SHARED)
    member = people.add_member(context, org.id, "bob@example.com", Role.OWNER)
    context.policies.set(org.id, OrgPolicy(member_concurrency=1), None)
    set_member_cap(context, org.id, "bob@example.com", 0, actor=Actor(None, "test"))

    async def scenario(workspace: WorkspaceGateway) -> list[type[BaseException]]:
        refused: list[type[BaseException]] = []
        for _ in range(3):
            try:
                async with workspace.chat_stream(org.id, member.id, chat("hello")):
                    pass
            except Exception as error:
                refused.append(type(error))
        return refused

    assert run(context, scenario) == [QuotaExhausted] * 3  # never "too many at once"
    assert context.usage.entries(org.id) == []


def test_a_rejected_key_is_the_relays_typed_error_and_one_ledger_row(
    context: AppContext, byok_org: tuple[str, str]
) -> None:
    org_id, member_id = byok_org

    async def scenario(workspace: WorkspaceGateway) -> None:
        async with workspace.chat_stream(org_id, member_id, chat("[sim:401] hi")):
            pass

    with pytest.raises(UpstreamKeyRejected) as refused:
        run(context, scenario)
    assert refused.value.status == 403 and "ask an admin" in refused.value.message
    [entry] = context.usage.entries(org_id)
    assert (entry["status_code"], entry["outcome"]) == (401, "upstream_key_rejected")


def test_a_stream_the_upstream_cuts_ends_in_a_typed_error_after_its_ledger_row(
    context: AppContext, byok_org: tuple[str, str]
) -> None:
    org_id, member_id = byok_org

    async def scenario(workspace: WorkspaceGateway) -> tuple[list[str], UpstreamFailed]:
        seen: list[str] = []
        async with workspace.chat_stream(org_id, member_id, chat("[sim:cut=3] story")) as s:
            with pytest.raises(UpstreamFailed) as cut:
                await read_into(seen, s.deltas())
            # The error came after the entry was committed: it is there already.
            assert [e["outcome"] for e in context.usage.entries(org_id)] == ["upstream_cut"]
        return seen, cut.value

    seen, error = run(context, scenario)
    assert len(seen) == 3
    assert error.code == "upstream_stream_cut"
    [entry] = context.usage.entries(org_id)
    assert entry["usage_estimated"] and entry["completion_tokens"] == 3


def test_a_reader_who_leaves_early_leaves_a_drained_and_ledgered_call(
    context: AppContext, byok_org: tuple[str, str]
) -> None:
    org_id, member_id = byok_org
    story = chat("[sim:slow=20][sim:tokens=40] a long story")

    async def scenario(workspace: WorkspaceGateway) -> list[dict[str, Any]]:
        async with workspace.chat_stream(org_id, member_id, story) as s:
            pieces = s.deltas()
            await anext(pieces)
            await anext(pieces)  # then the member pressed Stop: the block is left
        # Leaving the block waited for the drain: the real usage is in the ledger now.
        return context.usage.entries(org_id)

    [entry] = run(context, scenario)
    assert entry["outcome"] == "client_disconnected"
    assert entry["completion_tokens"] == 40 and not entry["usage_estimated"]
