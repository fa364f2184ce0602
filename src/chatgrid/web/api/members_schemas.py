"""Bodies of members, roles and invitations, each beside its converter."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from chatgrid.admin.members import InvitationIssued
from chatgrid.identity.invitations import Invitation
from chatgrid.identity.models import Member, Role
from chatgrid.store.types import utcnow
from chatgrid.web.api.schemas import Strict

# What a caller sends


class MemberUpdate(Strict):
    role: Role = Field(strict=False)


class InvitationCreate(Strict):
    email: str = Field(max_length=400)
    role: Role = Field(default=Role.MEMBER, strict=False)
    send_email: bool = Field(
        default=True, description="Email the link when SMTP is set up; else it is returned once."
    )


# What comes back


class MemberPublic(BaseModel):
    id: str
    email: str
    role: Role
    status: str
    created_at: datetime


def member_public(member: Member) -> MemberPublic:
    return MemberPublic(
        id=member.id,
        email=member.email,
        role=member.role,
        status=member.status,
        created_at=member.created_at,
    )


class MembersPublic(BaseModel):
    seats: int = Field(description="Active members.")
    members: list[MemberPublic]


def members_public(members: list[Member], seats: int) -> MembersPublic:
    return MembersPublic(seats=seats, members=[member_public(m) for m in members])


class InvitationPublic(BaseModel):
    id: str
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime
    status: str


def invitation_public(invitation: Invitation) -> InvitationPublic:
    return InvitationPublic(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        status=invitation.state(utcnow()).value,
    )


class InvitationCreated(BaseModel):
    invitation: InvitationPublic
    emailed: bool
    url: str | None = Field(description="The link to pass on, shown this once (null if emailed).")


def invitation_created(issued: InvitationIssued) -> InvitationCreated:
    return InvitationCreated(
        invitation=invitation_public(issued.invitation), emailed=issued.emailed, url=issued.link
    )


class ErasureReceipt(BaseModel):
    """What an erasure did: the pseudonym the member's money and history are kept under,
    and how many rows went or moved. The same receipt is in the audit log."""

    member: str = Field(description="The pseudonym (a member id) that replaces the member.")
    conversations: int = Field(description="Conversations deleted, with their messages.")
    collections: int = Field(description="Private collections deleted, with their documents.")
    prompts: int = Field(description="Private prompts deleted.")
    tokens: int = Field(description="API tokens deleted.")
    ledger_entries: int = Field(description="Ledger rows kept under the pseudonym.")
    audit_entries: int = Field(
        description="Audit entries that named them, now naming the pseudonym."
    )
    account_deleted: bool = Field(description="The account went too: no other org held it.")
