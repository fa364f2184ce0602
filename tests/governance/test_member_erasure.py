"""Erasing a member on both databases: the person is in no table afterwards, their content is
gone, the money stays under a pseudonym, and nobody else's data moves.

Bob, an admin, has conversations (with a share link, an image and an
attached document), a private collection, an upload to the org's shared
collection, private prompts, a token, a team place, a budget, sessions,
ledger rows, audit entries naming him, and settings he set (a budget,
limits, retention periods, a domain, an email alert channel). After the
erasure every text and JSON column of every table is searched for his
email, member id and account id: none is found. Carol's data and the
org's shared document are untouched, and the ledger's sums are the same.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import JSON, String, Text, cast, func, or_, select

from chatgrid.admin import erasure
from chatgrid.alerts.models import ChannelKind
from chatgrid.audit import Actor
from chatgrid.billing.budget_rules import BudgetScope
from chatgrid.context import AppContext
from chatgrid.documents.chunking import ChunkDraft
from chatgrid.documents.vectors import encode_vector
from chatgrid.errors import Conflict, PermissionDenied
from chatgrid.governance.erasure import ERASED_DOMAIN
from chatgrid.governance.retention import RetentionPolicy
from chatgrid.identity.models import BillingMode, Member, Org, Role
from chatgrid.identity.sessions import SessionRecord
from chatgrid.limits.policy import OrgPolicy
from chatgrid.store import erasure as register
from chatgrid.store.ids import new_id
from chatgrid.store.retention import RetentionRepository
from chatgrid.store.tables import (
    chat_messages,
    collections,
    conversations,
    documents,
    ledger_entries,
    members,
    metadata,
    seat_periods,
    users,
)
from chatgrid.store.teams import TeamRepository
from tests.support.usage_rows import entry, write

SECRET = "bob's private plans for the merger"
#: The tables the scenario leaves Bob's email, member id or account id in.
REACHED = [
    "alert_channels",
    "api_tokens",
    "audit_log",
    "budgets",
    "collections",
    "conversation_images",
    "conversation_shares",
    "conversations",
    "documents",
    "email_domains",
    "ledger_entries",
    "members",
    "org_policies",
    "prompts",
    "retention_policies",
    "seat_periods",
    "sessions",
    "team_members",
    "users",
]


def test_every_table_is_named_by_the_erasure() -> None:
    """A new table holding member data cannot be forgotten: it must be named here."""
    named = [*register.ERASED, *register.PSEUDONYMIZED, *register.UNTOUCHED]
    assert len(named) == len(set(named)), "a table is named twice"
    assert set(named) == {t.name for t in metadata.sorted_tables}


def seed_member(ctx: AppContext, org: Org, member: Member, label: str) -> None:
    """A member's content in every place a member leaves some."""
    conversation = ctx.conversations.create(org.id, member.id, f"{label} plans", "gpt-4o-mini")
    ctx.conversations.append(
        conversation, "user", f"{label}: {SECRET}", model=None, status="complete"
    )
    ctx.shares.share(conversation)
    ctx.attachments.add_image(org.id, conversation.id, member.id, "me.png", "image/png", b"\x89P")
    attached = ctx.documents.create_collection(org.id, f"{label} attached", member.id)
    ctx.attachments.link_collection(org.id, conversation.id, attached.id, None)
    private = ctx.documents.create_collection(org.id, f"{label} private", member.id)
    for collection in (attached, private):
        add_document(ctx, org, member, collection.id, f"{label} {SECRET}")
    ctx.prompts.add_prompt(org.id, member.id, f"{label} prompt", SECRET, limit=50)
    ctx.tokens.create(org.id, member.id, name=f"{label} laptop")
    moment = datetime.now(UTC) - timedelta(hours=1)
    write(ctx, [entry(org.id, member.id, moment, list_cost=2_500) for _ in range(3)])


def add_document(ctx: AppContext, org: Org, member: Member, collection_id: str, text: str) -> str:
    doc = ctx.documents.add_document(
        org.id, collection_id, member.id, "notes.md", "text/markdown", text.encode()
    )
    ids = ctx.documents.start_chunks(org.id, doc.id, [ChunkDraft(0, text, None, None)], pages=1)
    vector = encode_vector(np.ones(16, dtype=np.float32))
    ctx.documents.set_embeddings(org.id, doc.id, [(ids[0], vector)])
    ctx.documents.mark_ready(org.id, doc.id)
    return doc.id


def leave_traces_as_admin(ctx: AppContext, org: Org, bob: Member, carol: Member) -> None:
    """Settings Bob set, entries naming him, his sessions and places."""
    as_bob = Actor(bob.user_id, bob.email, client_addr="203.0.113.9", user_agent="Firefox/1")
    ctx.audit.record(org.id, as_bob, "budget.set", org.id, {"by": bob.email})
    ctx.audit.record(org.id, Actor.cli(), "member.added", bob.id, {"email": bob.email})
    ctx.audit.record(org.id, as_bob, "member.role_changed", carol.id, {"email": carol.email})
    ctx.budgets.put(
        org.id, BudgetScope.ORG, org.id, limit_micros=9_000_000, hard=True,
        thresholds=(50,), updated_by=bob.email,
    )  # fmt: skip
    ctx.budgets.put(
        org.id, BudgetScope.MEMBER, bob.id, limit_micros=1_000_000, hard=True,
        thresholds=(50,), updated_by=bob.email,
    )  # fmt: skip
    ctx.policies.set(org.id, OrgPolicy(member_rpm=60), bob.email)
    RetentionRepository(ctx.engine).put(org.id, RetentionPolicy(audit_days=400), bob.email)
    ctx.domains.claim(org.id, "example.org", "tok", created_by=bob.email, limit=5)
    ctx.alerts.add_channel(
        new_id("ach"), org.id, ChannelKind.EMAIL, display=bob.email, email=bob.email,
        sealed=None, created_by=bob.email, now=datetime.now(UTC),
    )  # fmt: skip
    teams = TeamRepository(ctx.engine)
    team = teams.create(org.id, "Research")
    teams.add_member(org.id, team.id, bob.id)
    teams.add_member(org.id, team.id, carol.id)
    now = datetime.now(UTC)
    for org_id in (org.id, None):
        ctx.sessions.create(
            SessionRecord(
                id_hash=hashlib.sha256(f"{org_id}".encode()).hexdigest(), user_id=bob.user_id,
                org_id=org_id, csrf_token="c", created_at=now, last_seen_at=now,
                expires_at=now + timedelta(days=1), client_addr="203.0.113.9", user_agent="F",
            )
        )  # fmt: skip


def mentions_of(ctx: AppContext, needles: list[str]) -> dict[str, int]:
    """Rows of every table whose text or JSON columns hold one of ``needles``."""
    found: dict[str, int] = {}
    with ctx.engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.c if isinstance(c.type, (String, Text, JSON))]
            if not columns:
                continue
            hit = or_(
                *(
                    func.lower(cast(c, String)).like(f"%{needle.lower()}%")
                    for c in columns
                    for needle in needles
                )
            )
            count = conn.execute(select(func.count()).select_from(table).where(hit)).scalar_one()
            if count:
                found[table.name] = count
    return found


def money(ctx: AppContext, org_id: str) -> tuple[int, int]:
    with ctx.engine.connect() as conn:
        rows, cost = conn.execute(
            select(func.count(), func.sum(ledger_entries.c.list_cost_micros)).where(
                ledger_entries.c.org_id == org_id
            )
        ).one()
    return int(rows), int(cost)


def count(ctx: AppContext, table: object, *where: object) -> int:
    with ctx.engine.connect() as conn:
        query = select(func.count()).select_from(table).where(*where)  # type: ignore[arg-type]
        return int(conn.execute(query).scalar_one())


@pytest.fixture
def org_of_three(context: AppContext) -> tuple[Org, Member, Member, Member]:
    org = context.orgs.create("Erasure Co", BillingMode.SHARED)
    olive = context.accounts.add_member_without_password(
        org.id, "olive@erasure.example", Role.OWNER
    )
    bob = context.accounts.add_member_without_password(org.id, "Bob@Erasure.example", Role.ADMIN)
    carol = context.accounts.add_member_without_password(
        org.id, "carol@erasure.example", Role.MEMBER
    )
    return org, olive, bob, carol


def test_an_erased_member_is_in_no_table_and_the_money_stays(
    context: AppContext, org_of_three: tuple[Org, Member, Member, Member]
) -> None:
    ctx = context
    org, olive, bob, carol = org_of_three
    seed_member(ctx, org, bob, "bob")
    seed_member(ctx, org, carol, "carol")
    shared = ctx.documents.create_collection(org.id, "Handbook", None)
    bob_upload = add_document(ctx, org, bob, shared.id, "the handbook")
    leave_traces_as_admin(ctx, org, bob, carol)
    person = [bob.email, bob.id, bob.user_id]
    # The scenario reaches every kind of place a member leaves a trace in.
    assert set(mentions_of(ctx, person)) >= set(REACHED)
    money_before = money(ctx, org.id)
    carol_before = count(ctx, conversations, conversations.c.member_id == carol.id)

    receipt = erasure.erase_member(ctx, org, olive, Actor.cli(), bob.id)

    assert mentions_of(ctx, person) == {}, "the person is still somewhere"
    assert mentions_of(ctx, [f"bob: {SECRET}", f"bob {SECRET}", "bob plans", "bob private"]) == {}
    alias = receipt["member"]
    assert receipt["conversations"] == 1 and receipt["collections"] == 2
    assert receipt["ledger_entries"] == 3 and receipt["account_deleted"] is True
    # The money stays, under the alias: same rows, same sums, same seats.
    assert money(ctx, org.id) == money_before
    assert count(ctx, ledger_entries, ledger_entries.c.member_id == alias) == 3
    assert count(ctx, seat_periods, seat_periods.c.member_id == alias) == 1
    assert count(ctx, members, members.c.id == alias, members.c.user_id.is_(None)) == 1
    assert count(ctx, users, users.c.email == bob.email.lower()) == 0
    # Nobody else moved: Carol's content, the org's shared document (now uploaded by the alias).
    assert count(ctx, conversations, conversations.c.member_id == carol.id) == carol_before == 1
    assert count(ctx, chat_messages, chat_messages.c.content.like("carol:%")) == 1
    assert (
        count(ctx, documents, documents.c.id == bob_upload, documents.c.uploaded_by == alias) == 1
    )
    assert count(ctx, collections, collections.c.owner_member_id == carol.id) == 2
    assert sorted(m.email for m in ctx.members.list(org.id)) == [carol.email, olive.email]
    # The receipt: in the audit log, naming the alias and the counts, never the person.
    entries = [e for e in ctx.audit.entries(org.id) if e.action == "member.erased"]
    assert len(entries) == 1 and entries[0].target == alias
    assert entries[0].details["conversations"] == 1
    assert all(ERASED_DOMAIN not in str(v) for v in entries[0].details.values())


def test_an_account_in_another_org_stays_and_only_this_org_forgets_it(
    context: AppContext, org_of_three: tuple[Org, Member, Member, Member]
) -> None:
    ctx = context
    org, olive, bob, _ = org_of_three
    other = ctx.orgs.create("Elsewhere", BillingMode.BYOK)
    there = ctx.accounts.add_member_without_password(other.id, bob.email, Role.MEMBER)
    seed_member(ctx, other, there, "bob-there")
    seed_member(ctx, org, bob, "bob")

    receipt = erasure.erase_member(ctx, org, olive, Actor.cli(), bob.id)

    assert receipt["account_deleted"] is False
    assert count(ctx, users, users.c.id == bob.user_id) == 1
    assert count(ctx, conversations, conversations.c.member_id == there.id) == 1
    assert count(ctx, conversations, conversations.c.org_id == org.id) == 0
    assert count(ctx, ledger_entries, ledger_entries.c.member_id == bob.id) == 0
    assert count(ctx, ledger_entries, ledger_entries.c.member_id == there.id) == 3


def test_only_owners_erase_owners_and_the_last_owner_stays(
    context: AppContext, org_of_three: tuple[Org, Member, Member, Member]
) -> None:
    ctx = context
    org, olive, bob, carol = org_of_three
    with pytest.raises(PermissionDenied):
        erasure.erase_member(ctx, org, bob, Actor.cli(), olive.id)
    with pytest.raises(PermissionDenied):
        erasure.erase_member(ctx, org, carol, Actor.cli(), bob.id)
    with pytest.raises(Conflict) as refused:
        erasure.erase_member_by_email(ctx, org.id, olive.email)
    assert refused.value.code == "last_owner"
    assert count(ctx, users, users.c.id == olive.user_id) == 1
    # A member already removed is erased all the same.
    erasure.erase_member(ctx, org, olive, Actor.cli(), carol.id)
    erasure.erase_member(ctx, org, olive, Actor.cli(), bob.id)
    assert count(ctx, users, users.c.id == bob.user_id) == 0
    assert count(ctx, users, users.c.id == carol.user_id) == 0
