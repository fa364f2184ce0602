"""Which tables an org export holds, which it leaves out and why, and reading them a few rows
at a time.

Every table is named here once: ``EXPORTED`` (with the columns left out of
its rows: secrets, hashes, binary data exported as files instead) or
``LEFT_OUT`` (with the reason). ``tests/governance/test_org_export.py``
fails when a table is added to the schema without being named here, so a
new table holding an org's data cannot be forgotten by the export.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, Table, or_, select

from chatgrid.store.tables import (
    audit_log,
    budgets,
    chat_messages,
    collections,
    conversation_collections,
    conversation_images,
    conversation_shares,
    conversations,
    credential_model_choices,
    document_files,
    documents,
    email_domains,
    invoices,
    ledger_entries,
    members,
    metadata,
    org_chat_settings,
    org_policies,
    org_second_factor_rules,
    prompts,
    retention_policies,
    seat_periods,
    service_accounts,
    team_members,
    teams,
    users,
)

#: Rows read per round trip: memory stays flat whatever the org's size.
ROWS_PER_FETCH = 500

#: table → columns left out of its rows (exported as files, or never shown).
EXPORTED: dict[Table, frozenset[str]] = {
    members: frozenset(),
    teams: frozenset(),
    team_members: frozenset(),
    seat_periods: frozenset(),
    service_accounts: frozenset(),
    collections: frozenset(),
    documents: frozenset({"claimed_at", "attempts"}),
    conversations: frozenset(),
    chat_messages: frozenset(),
    conversation_shares: frozenset(),
    conversation_collections: frozenset(),
    conversation_images: frozenset({"data", "sealed"}),  # each image is a file of its own
    prompts: frozenset(),
    budgets: frozenset(),
    org_policies: frozenset(),
    org_chat_settings: frozenset(),
    org_second_factor_rules: frozenset(),
    credential_model_choices: frozenset(),
    email_domains: frozenset({"token"}),
    ledger_entries: frozenset(),
    invoices: frozenset(),
    audit_log: frozenset(),
}

#: table → why the export leaves it out.
LEFT_OUT: dict[str, str] = {
    "orgs": "the org's own row is the manifest's org",
    "users": "accounts span orgs: members are exported with their email (users.email)",
    "document_files": "each uploaded file is exported as itself, under documents/",
    "chunks": "derived from the documents (text and vectors), made again on import",
    "credentials": "the org's keys: secrets, never exported",
    "reconciliation_keys": "the org's OpenAI admin key: a secret, never exported",
    "api_tokens": "token hashes: secrets",
    "service_account_tokens": "token hashes: secrets",
    "scim_tokens": "token hashes: secrets",
    "sessions": "sign-in sessions: secrets",
    "signin_challenges": "sign-in state: secrets",
    "sso_logins": "sign-in state: secrets",
    "sso_connections": "the identity provider's client secret and certificates",
    "sso_identities": "the identity provider's subject ids, re-made at the next sign-in",
    "saml_assertions_seen": "replay protection: hashes",
    "invitations": "link token hashes of pending invitations",
    "account_links": "emailed link token hashes",
    "recovery_codes": "two-step sign-in secrets",
    "second_factors": "two-step sign-in secrets",
    "unverified_accounts": "an account's own state, not the org's",
    "alert_channels": "webhook URLs and signing secrets are secrets",
    "alert_deliveries": "copies of alerts, with receivers' answers",
    "scim_groups": "the identity provider's copy of its groups, pushed again",
    "scim_group_members": "the identity provider's copy of its groups, pushed again",
    "scim_users": "the identity provider's ids for members, pushed again",
    "payment_events": "Stripe's events, kept by Stripe",
    "payment_failures": "the current payment standing, shown on the invoices",
    "payment_settings": "the operator's Stripe secrets",
    "stripe_customers": "the operator's Stripe customer id",
    "operator_policies": "the operator's own limits on the org",
    "plans": "the operator's price list; the invoices carry what was billed",
    "prices": "the operator's price book; the ledger carries each call's cost",
    "unit_prices": "the operator's price book; the ledger carries each call's cost",
    "pool_keys": "the operator's keys: secrets",
    "retention_policies": "the org's periods are in the manifest",
    "job_leases": "background jobs' leases, no one's data",
    "org_data_keys": "the org's document data key: a secret (the files are exported opened)",
}


#: (org id, member id) → the condition that picks a member's own rows of one table.
MemberRows = Callable[[str, str], ColumnElement[bool]]


def _their_conversations(org_id: str, member_id: str) -> Select[Any]:
    c = conversations.c
    return select(c.id).where(c.org_id == org_id, c.member_id == member_id)


def _their_collections(org_id: str, member_id: str) -> ColumnElement[bool]:
    """Their private collections and the ones attached to their conversations."""
    attached = select(conversation_collections.c.collection_id).where(
        conversation_collections.c.conversation_id.in_(_their_conversations(org_id, member_id))
    )
    return or_(collections.c.owner_member_id == member_id, collections.c.id.in_(attached))


def _their_documents(org_id: str, member_id: str) -> ColumnElement[bool]:
    mine = select(collections.c.id).where(
        collections.c.org_id == org_id, _their_collections(org_id, member_id)
    )
    return documents.c.collection_id.in_(mine)


#: table → the rows of it that are a member's own (their export); columns left out as
#: ``EXPORTED`` says.
MEMBER_EXPORTED: dict[Table, MemberRows] = {
    members: lambda org, m: members.c.id == m,
    conversations: lambda org, m: conversations.c.member_id == m,
    chat_messages: lambda org, m: chat_messages.c.conversation_id.in_(_their_conversations(org, m)),
    conversation_shares: lambda org, m: conversation_shares.c.member_id == m,
    conversation_collections: lambda org, m: conversation_collections.c.conversation_id.in_(
        _their_conversations(org, m)
    ),
    conversation_images: lambda org, m: conversation_images.c.member_id == m,
    collections: _their_collections,
    documents: _their_documents,
    prompts: lambda org, m: prompts.c.owner_member_id == m,
    team_members: lambda org, m: team_members.c.member_id == m,
    ledger_entries: lambda org, m: ledger_entries.c.member_id == m,
}


def section_name(table: Table) -> str:
    return f"{table.name}.jsonl"


def org_rows(
    engine: Engine, table: Table, org_id: str, member_id: str | None = None
) -> Iterator[dict[str, Any]]:
    """The org's rows of an exported table (or only a member's own, in ``MEMBER_EXPORTED``),
    oldest first, without its left-out columns."""
    hidden = EXPORTED[table]
    columns = [c for c in table.c if c.name not in hidden]
    query = select(*columns).where(table.c.org_id == org_id)
    if member_id is not None:
        query = query.where(MEMBER_EXPORTED[table](org_id, member_id))
    order = [c for c in (table.c.get("created_at"), *table.primary_key.columns) if c is not None]
    query = query.order_by(*order)
    if table is members:  # who a member is: their account's email
        query = query.add_columns(users.c.email).join(users, users.c.id == members.c.user_id)
    yield from _streamed(engine, query)


def documents_with_files(
    engine: Engine, org_id: str, member_id: str | None = None
) -> Iterator[tuple[str, str]]:
    """(document id, filename) of every upload (or a member's own) that has its file; the
    file is read with ``DocumentRepository.file_bytes``, which opens it."""
    query = (
        select(documents.c.id, documents.c.filename)
        .join(document_files, document_files.c.document_id == documents.c.id)
        .where(documents.c.org_id == org_id)
        .order_by(documents.c.created_at, documents.c.id)
    )
    if member_id is not None:
        query = query.where(_their_documents(org_id, member_id))
    for row in _streamed(engine, query):
        yield str(row["id"]), str(row["filename"])


def images_of(
    engine: Engine, org_id: str, member_id: str | None = None
) -> Iterator[tuple[str, str, bytes, bool]]:
    """(image id, filename, stored bytes, sealed) of every image attached to a conversation
    (or to a member's own); ``DocumentSealing.open_image`` opens a sealed one."""
    i = conversation_images.c
    query = select(i.id, i.filename, i.data, i.sealed).where(i.org_id == org_id)
    query = query.order_by(i.created_at, i.id)
    if member_id is not None:
        query = query.where(i.member_id == member_id)
    for row in _streamed(engine, query, per_fetch=1):
        yield str(row["id"]), str(row["filename"]), bytes(row["data"]), bool(row["sealed"])


def retention_of(engine: Engine, org_id: str) -> dict[str, Any] | None:
    query = select(retention_policies).where(retention_policies.c.scope == org_id)
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return None if row is None else {str(name): value for name, value in row.items()}


def every_table() -> set[str]:
    return {table.name for table in metadata.sorted_tables}


def _streamed(
    engine: Engine, query: Any, per_fetch: int = ROWS_PER_FETCH
) -> Iterator[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=per_fetch).execute(query)
        for row in result.mappings():
            # Column names come as ``quoted_name`` (a str subclass): plain str for JSON.
            yield {str(name): value for name, value in row.items()}
