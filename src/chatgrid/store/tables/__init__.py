"""The schema, as SQLAlchemy Core tables (migrations live in ``migrations/``).

Identifiers are short prefixed strings (``org_…``, ``mem_…``) so a value in a
log or a support ticket says what it is. Money columns are integer
micro-dollars. Secrets are stored only as envelope-encrypted blobs.

Each part's tables live in their own module here; this package re-exports
them all, so ``metadata`` knows every table (Alembic compares against it).
"""

from __future__ import annotations

from chatgrid.store.tables.account_links import account_links, unverified_accounts
from chatgrid.store.tables.accounts import (
    api_tokens,
    audit_log,
    invitations,
    members,
    sessions,
    users,
)
from chatgrid.store.tables.alerts import alert_channels, alert_deliveries
from chatgrid.store.tables.attachments import conversation_collections, conversation_images
from chatgrid.store.tables.base import ID, metadata
from chatgrid.store.tables.billing import (
    invoices,
    plans,
    seat_periods,
)
from chatgrid.store.tables.budgets import budgets
from chatgrid.store.tables.chat import (
    chat_messages,
    conversation_shares,
    conversations,
    org_chat_settings,
)
from chatgrid.store.tables.documents import (
    chunks,
    collections,
    document_files,
    documents,
    org_data_keys,
)
from chatgrid.store.tables.domains import email_domains
from chatgrid.store.tables.keys import (
    credential_model_choices,
    credentials,
    pool_keys,
)
from chatgrid.store.tables.ledger import (
    ledger_entries,
    prices,
    unit_prices,
)
from chatgrid.store.tables.orgs import (
    operator_policies,
    org_policies,
    orgs,
)
from chatgrid.store.tables.payments import (
    payment_events,
    payment_failures,
    payment_settings,
    stripe_customers,
)
from chatgrid.store.tables.prompts import prompts
from chatgrid.store.tables.reconciliation import reconciliation_keys
from chatgrid.store.tables.retention import job_leases, retention_policies
from chatgrid.store.tables.saml import saml_assertions_seen
from chatgrid.store.tables.scim import scim_group_members, scim_groups, scim_tokens, scim_users
from chatgrid.store.tables.second_factor import (
    org_second_factor_rules,
    recovery_codes,
    second_factors,
    signin_challenges,
)
from chatgrid.store.tables.service_accounts import service_account_tokens, service_accounts
from chatgrid.store.tables.sso import sso_connections, sso_identities, sso_logins
from chatgrid.store.tables.teams import team_members, teams

__all__ = [
    "ID",
    "account_links",
    "alert_channels",
    "alert_deliveries",
    "api_tokens",
    "audit_log",
    "budgets",
    "chat_messages",
    "chunks",
    "collections",
    "conversation_collections",
    "conversation_images",
    "conversation_shares",
    "conversations",
    "credential_model_choices",
    "credentials",
    "document_files",
    "documents",
    "email_domains",
    "invitations",
    "invoices",
    "job_leases",
    "ledger_entries",
    "members",
    "metadata",
    "operator_policies",
    "org_chat_settings",
    "org_data_keys",
    "org_policies",
    "org_second_factor_rules",
    "orgs",
    "payment_events",
    "payment_failures",
    "payment_settings",
    "plans",
    "pool_keys",
    "prices",
    "prompts",
    "reconciliation_keys",
    "recovery_codes",
    "retention_policies",
    "saml_assertions_seen",
    "scim_group_members",
    "scim_groups",
    "scim_tokens",
    "scim_users",
    "seat_periods",
    "second_factors",
    "service_account_tokens",
    "service_accounts",
    "sessions",
    "signin_challenges",
    "sso_connections",
    "sso_identities",
    "sso_logins",
    "stripe_customers",
    "team_members",
    "teams",
    "unit_prices",
    "unverified_accounts",
    "users",
]
