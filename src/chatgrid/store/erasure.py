"""Erasing a member in one transaction, through each table's owner, and the register of what
the erasure does to every table of the schema.

``ERASED`` names the tables whose rows about the person are deleted,
``PSEUDONYMIZED`` the ones whose rows stay with the person replaced by the
alias, ``UNTOUCHED`` the rest with the reason they hold nothing of the
person. ``tests/governance/test_member_erasure.py`` fails when a table of
the schema is in none of them, and searches every table for the person
after an erasure. Everything happens in one transaction: an erasure that
fails leaves nothing half-done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select

from chatgrid.errors import NotFound
from chatgrid.governance.erasure import Erasure
from chatgrid.store.account_links import erase_account_links
from chatgrid.store.accounts import erase_account
from chatgrid.store.alerts import erase_alert_mentions
from chatgrid.store.audit import erase_person
from chatgrid.store.budgets import erase_member_budgets
from chatgrid.store.conversations import delete_conversations
from chatgrid.store.credentials import erase_credential_author
from chatgrid.store.documents import delete_collections, erase_uploader
from chatgrid.store.domains import erase_domain_author
from chatgrid.store.ids import new_id
from chatgrid.store.invitations import erase_invitations
from chatgrid.store.ledger_writer import erase_member_calls
from chatgrid.store.policies import erase_policy_author
from chatgrid.store.prompts import erase_prompt_owner
from chatgrid.store.reconciliation_keys import erase_admin_key_author
from chatgrid.store.retention import erase_retention_author
from chatgrid.store.scim import erase_scim_user
from chatgrid.store.scim_groups import erase_group_places
from chatgrid.store.seats import erase_membership
from chatgrid.store.second_factor import erase_second_factor
from chatgrid.store.sessions import end_all_sessions, end_sessions_in_org
from chatgrid.store.sso import erase_sso_identities
from chatgrid.store.tables import conversations, members, users
from chatgrid.store.teams import leave_teams
from chatgrid.store.tokens import erase_member_tokens

#: table → what of the person goes.
ERASED: dict[str, str] = {
    "conversations": "their conversations",
    "chat_messages": "the messages of their conversations",
    "conversation_shares": "the share links of their conversations",
    "conversation_images": "the images of their conversations",
    "conversation_collections": "the documents attached to their conversations",
    "collections": "their private collections",
    "documents": "the documents of their private collections",
    "document_files": "the files of those documents",
    "chunks": "the text, vectors and keyword rows of those documents",
    "prompts": "their private prompts (shared ones they wrote stay, with no owner)",
    "api_tokens": "their tokens",
    "sessions": "their sessions in the org (every session with the account)",
    "signin_challenges": "their sign-in challenges in the org (all, with the account)",
    "sso_identities": "the identity provider's subject for them",
    "scim_users": "the identity provider's id for them",
    "scim_group_members": "their places in the identity provider's groups",
    "team_members": "their places in teams",
    "budgets": "their own budgets (budgets they set keep the alias as setter)",
    "invitations": "invitations to their address (ones they sent stay, from no one)",
    "users": "their account, when no other org holds it",
    "account_links": "their emailed links, with the account",
    "unverified_accounts": "their unverified mark, with the account",
    "second_factors": "their second factor, with the account",
    "recovery_codes": "their recovery codes, with the account",
}

#: table → what stays, under the alias.
PSEUDONYMIZED: dict[str, str] = {
    "members": "a row for the alias, with no account behind it, replaces theirs",
    "seat_periods": "the seats they were billed for, under the alias",
    "ledger_entries": "every call's money, under the alias, without the calling address",
    "audit_log": "what they did and what was done to them, with the alias for the person",
    "alert_channels": "their email channel stops; channels they added name the alias",
    "alert_deliveries": "deliveries that named them name the alias",
    "email_domains": "domains they verified name the alias",
    "credentials": "keys they added name the alias",
    "credential_model_choices": "model choices they made name the alias",
    "org_policies": "limits they set name the alias",
    "retention_policies": "retention periods they set name the alias",
    "sso_connections": "the sign-in connection they set names the alias",
    "reconciliation_keys": "the OpenAI admin key they saved names the alias",
}

#: table → why it holds nothing of the person.
UNTOUCHED: dict[str, str] = {
    "orgs": "the org's own row",
    "teams": "the org's teams (their places are erased)",
    "service_accounts": "the org's machine identities, no person's",
    "service_account_tokens": "machine identities' token hashes",
    "scim_groups": "the identity provider's groups (their places are erased)",
    "scim_tokens": "the org's provisioning token hashes",
    "sso_logins": "sign-ins in flight, minutes long, with no person yet",
    "saml_assertions_seen": "assertion ids kept against replay, no person",
    "org_chat_settings": "the org's chat settings",
    "org_second_factor_rules": "the org's two-step rule",
    "operator_policies": "the operator's limits on the org",
    "invoices": "the org's invoices: seats and money, no person",
    "payment_settings": "the operator's Stripe settings",
    "payment_events": "Stripe's events about the org's invoices",
    "payment_failures": "the org's payment standing",
    "stripe_customers": "the org's Stripe customer",
    "plans": "the operator's price list",
    "prices": "the operator's price book",
    "unit_prices": "the operator's price book",
    "pool_keys": "the operator's keys",
    "job_leases": "background jobs' leases",
    "org_data_keys": "the org's document data key",
}


@dataclass(frozen=True)
class ErasedCounts:
    """How many rows of each kind went or moved to the alias: the receipt's numbers."""

    conversations: int
    collections: int
    prompts: int
    tokens: int
    ledger_entries: int
    audit_entries: int
    account_deleted: bool


class ErasureRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def plan(self, org_id: str, member_id: str) -> Erasure:
        """Who is erased and under which alias; ``NotFound`` for no such member."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(members.c.user_id, users.c.email, users.c.is_operator)
                .join(users, users.c.id == members.c.user_id)
                .where(members.c.org_id == org_id, members.c.id == member_id)
            ).first()
            if row is None:
                raise NotFound("no such member", code="member_not_found")
            elsewhere = conn.execute(
                select(func.count())
                .select_from(members)
                .where(members.c.user_id == row.user_id, members.c.org_id != org_id)
            ).scalar_one()
        return Erasure(
            org_id=org_id,
            member_id=member_id,
            user_id=str(row.user_id),
            email=str(row.email),
            alias=new_id("mem"),
            whole_account=not elsewhere and not row.is_operator,
        )

    def erase(self, erasure: Erasure, at: datetime) -> ErasedCounts:
        with self.engine.begin() as conn:
            content = _erase_content(conn, erasure)
            tokens = erase_member_tokens(conn, erasure)
            _erase_places(conn, erasure)
            ledger = erase_member_calls(conn, erasure)
            audit = erase_person(conn, erasure)
            _rename_author(conn, erasure, at)
            erase_membership(conn, erasure, at)
            _erase_account(conn, erasure)
        conversations_gone, collections_gone, prompts_gone = content
        return ErasedCounts(
            conversations=conversations_gone,
            collections=collections_gone,
            prompts=prompts_gone,
            tokens=tokens,
            ledger_entries=ledger,
            audit_entries=audit,
            account_deleted=erasure.whole_account,
        )


def _erase_content(conn: Connection, erasure: Erasure) -> tuple[int, int, int]:
    """Their conversations, private collections (with documents) and private prompts."""
    c = conversations.c
    theirs = select(c.id).where(c.org_id == erasure.org_id, c.member_id == erasure.member_id)
    conversation_ids = [str(ident) for ident in conn.execute(theirs).scalars()]
    attached = delete_conversations(conn, erasure.org_id, conversation_ids)
    collection_ids = sorted({*attached, *erase_uploader(conn, erasure)})
    delete_collections(conn, erasure.org_id, collection_ids)
    prompts_gone = erase_prompt_owner(conn, erasure)
    return len(conversation_ids), len(collection_ids), prompts_gone


def _erase_places(conn: Connection, erasure: Erasure) -> None:
    """Where they stood in the org: teams, groups, budgets, invitations, sign-ins."""
    leave_teams(conn, erasure.org_id, erasure.member_id)
    erase_group_places(conn, erasure)
    erase_scim_user(conn, erasure)
    erase_member_budgets(conn, erasure)
    erase_invitations(conn, erasure)
    erase_sso_identities(conn, erasure)
    erase_second_factor(conn, erasure)
    if erasure.whole_account:
        end_all_sessions(conn, erasure.user_id)
    else:
        end_sessions_in_org(conn, erasure.user_id, erasure.org_id)


def _rename_author(conn: Connection, erasure: Erasure, at: datetime) -> None:
    """Org settings that name them as their author or setter name the alias."""
    erase_alert_mentions(conn, erasure, at)
    erase_domain_author(conn, erasure)
    erase_credential_author(conn, erasure)
    erase_policy_author(conn, erasure)
    erase_retention_author(conn, erasure)
    erase_admin_key_author(conn, erasure)


def _erase_account(conn: Connection, erasure: Erasure) -> None:
    erase_account_links(conn, erasure)
    erase_account(conn, erasure)
