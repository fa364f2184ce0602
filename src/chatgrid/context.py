"""The long-lived objects one ChatGrid process works with.

Built once per process (``AppContext.open``) and handed to the server, the
CLI and tests; nothing is created at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from chatgrid.settings import Settings
from chatgrid.store.accounts import AccountRepository
from chatgrid.store.alerts import AlertRepository
from chatgrid.store.attachments import AttachmentRepository
from chatgrid.store.audit import AuditRepository
from chatgrid.store.billing import BillingRepository, PlanRepository
from chatgrid.store.budgets import BudgetRepository
from chatgrid.store.chat_settings import ChatSettingsRepository
from chatgrid.store.conversation_shares import ConversationShareRepository
from chatgrid.store.conversations import ConversationRepository
from chatgrid.store.credentials import CredentialRepository
from chatgrid.store.document_keys import DocumentKeys
from chatgrid.store.documents import DocumentRepository
from chatgrid.store.domains import DomainRepository
from chatgrid.store.engine import create_db_engine
from chatgrid.store.invitations import InvitationRepository
from chatgrid.store.orgs import MemberRepository, OrgRepository
from chatgrid.store.policies import PolicyRepository
from chatgrid.store.pool_keys import PoolKeyRepository
from chatgrid.store.prices import PriceRepository
from chatgrid.store.prompts import PromptRepository
from chatgrid.store.second_factor import SecondFactorRepository
from chatgrid.store.service_accounts import ServiceAccountRepository
from chatgrid.store.sessions import SessionRepository
from chatgrid.store.tokens import TokenRepository
from chatgrid.store.usage import UsageRepository
from chatgrid.sync import ChangePublisher
from chatgrid.vault import Vault, load_keyring


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    vault: Vault
    changes: ChangePublisher
    orgs: OrgRepository
    members: MemberRepository
    tokens: TokenRepository
    credentials: CredentialRepository
    pool: PoolKeyRepository
    prices: PriceRepository
    policies: PolicyRepository
    audit: AuditRepository
    budgets: BudgetRepository
    usage: UsageRepository
    accounts: AccountRepository
    sessions: SessionRepository
    invitations: InvitationRepository
    plans: PlanRepository
    billing: BillingRepository
    documents: DocumentRepository
    conversations: ConversationRepository
    shares: ConversationShareRepository
    chat_settings: ChatSettingsRepository
    service_accounts: ServiceAccountRepository
    prompts: PromptRepository
    attachments: AttachmentRepository
    second_factors: SecondFactorRepository
    domains: DomainRepository
    alerts: AlertRepository

    @classmethod
    def open(cls, settings: Settings) -> AppContext:
        engine = create_db_engine(settings)
        vault = Vault(load_keyring(settings))
        document_keys = DocumentKeys(engine, lambda: opened.vault)
        documents = DocumentRepository(engine, document_keys)
        opened = cls(
            settings=settings,
            engine=engine,
            vault=vault,
            changes=ChangePublisher(settings),
            orgs=OrgRepository(engine),
            members=MemberRepository(engine),
            tokens=TokenRepository(engine),
            credentials=CredentialRepository(engine),
            pool=PoolKeyRepository(engine),
            prices=PriceRepository(engine),
            policies=PolicyRepository(engine),
            audit=AuditRepository(engine),
            budgets=BudgetRepository(engine),
            usage=UsageRepository(engine),
            accounts=AccountRepository(engine),
            sessions=SessionRepository(engine),
            invitations=InvitationRepository(engine),
            plans=PlanRepository(engine),
            billing=BillingRepository(engine),
            documents=documents,
            conversations=ConversationRepository(engine),
            shares=ConversationShareRepository(engine),
            chat_settings=ChatSettingsRepository(engine),
            service_accounts=ServiceAccountRepository(engine),
            prompts=PromptRepository(engine),
            attachments=AttachmentRepository(engine, documents.sealing),
            second_factors=SecondFactorRepository(engine),
            domains=DomainRepository(engine),
            alerts=AlertRepository(engine),
        )
        return opened

    def reload_keyring(self) -> None:
        """Pick up a master key added by ``vault rotate-master`` in another process."""
        self.vault = Vault(load_keyring(self.settings))

    def close(self) -> None:
        self.changes.close()
        self.engine.dispose()
