"""Read-only links to conversations, for the members of the conversation's org.

A link is a row; revoking deletes it, so the next request for it is the
same 404 as an id that never existed. Reads take the org id: a link is
never found from another org.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from chatgrid.chat.models import Conversation, ConversationShare
from chatgrid.store.ids import new_id
from chatgrid.store.tables import conversation_shares, conversations
from chatgrid.store.types import utcnow


def _share(row: Mapping[Any, Any]) -> ConversationShare:
    return ConversationShare(
        id=row["id"],
        org_id=row["org_id"],
        conversation_id=row["conversation_id"],
        member_id=row["member_id"],
        created_at=row["created_at"],
    )


def delete_shares(conn: Connection, org_id: str, conversation_ids: Sequence[str]) -> None:
    """Conversations being deleted take their links with them (called in that transaction,
    one statement whatever their number)."""
    s = conversation_shares.c
    conn.execute(
        delete(conversation_shares).where(
            s.org_id == org_id, s.conversation_id.in_(conversation_ids)
        )
    )


class ConversationShareRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def share(self, conversation: Conversation) -> tuple[ConversationShare, bool]:
        """The conversation's link: a new one (True), or the one it already has (False)."""
        values = {
            "id": new_id("share"),
            "org_id": conversation.org_id,
            "conversation_id": conversation.id,
            "member_id": conversation.member_id,
            "created_at": utcnow(),
        }
        existing = self.find(conversation.org_id, conversation.id)
        if existing is not None:
            return existing, False
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(conversation_shares).values(**values))
        except IntegrityError:  # shared twice at once: one link, the first
            found = self.find(conversation.org_id, conversation.id)
            if found is None:
                raise
            return found, False
        return _share(values), True

    def find(self, org_id: str, conversation_id: str) -> ConversationShare | None:
        s = conversation_shares.c
        statement = select(conversation_shares).where(
            s.org_id == org_id, s.conversation_id == conversation_id
        )
        with self.engine.connect() as conn:
            row = conn.execute(statement).mappings().first()
        return _share(row) if row is not None else None

    def unshare(self, org_id: str, conversation_id: str) -> ConversationShare | None:
        s = conversation_shares.c
        with self.engine.begin() as conn:
            row = (
                conn.execute(
                    select(conversation_shares).where(
                        s.org_id == org_id, s.conversation_id == conversation_id
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            conn.execute(delete(conversation_shares).where(s.id == row["id"]))
        return _share(row)

    def shared(self, org_id: str, share_id: str) -> Conversation | None:
        """The conversation behind a link, looked up inside ``org_id`` only."""
        s, c = conversation_shares.c, conversations.c
        statement = (
            select(conversations)
            .join(conversation_shares, s.conversation_id == c.id)
            .where(s.id == share_id, s.org_id == org_id, c.org_id == org_id)
        )
        with self.engine.connect() as conn:
            row = conn.execute(statement).mappings().first()
        if row is None:
            return None
        return Conversation(
            id=row["id"],
            org_id=row["org_id"],
            member_id=row["member_id"],
            title=row["title"],
            model=row["model"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
