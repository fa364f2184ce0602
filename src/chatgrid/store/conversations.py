"""Conversations and their messages; a message's tokens and cost come from the ledger.

Every read is scoped by org and member: a conversation belongs to the member
who started it, and nobody else (not even an admin) reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.chat.models import (
    TITLE_MAX,
    ChatMessage,
    Citation,
    Conversation,
    MessageUsage,
    Role,
    Status,
)
from chatgrid.errors import Conflict
from chatgrid.store.attachments import delete_attachments
from chatgrid.store.conversation_shares import delete_shares
from chatgrid.store.ids import new_id
from chatgrid.store.tables import chat_messages, conversations, ledger_entries
from chatgrid.store.types import utcnow

_LIKE_ESCAPE = "\\"
_APPEND_ATTEMPTS = 5


def _conversation(row: Mapping[Any, Any]) -> Conversation:
    return Conversation(
        id=row["id"],
        org_id=row["org_id"],
        member_id=row["member_id"],
        title=row["title"],
        model=row["model"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        collection_ids=tuple(orjson.loads(row.get("collection_ids") or "[]")),
    )


def _message(row: Mapping[Any, Any], usage: MessageUsage | None) -> ChatMessage:
    citations = [Citation.from_dict(c) for c in orjson.loads(row["citations"] or "[]")]
    return ChatMessage(
        id=row["id"],
        conversation_id=row["conversation_id"],
        position=row["position"],
        role=row["role"],
        content=row["content"],
        model=row["model"],
        status=row["status"],
        error=row["error"],
        error_code=row["error_code"],
        call_id=row["call_id"],
        retrieval_call_id=row["retrieval_call_id"],
        created_at=row["created_at"],
        citations=citations,
        usage=usage,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def delete_conversations(
    conn: Connection, org_id: str, conversation_ids: Sequence[str]
) -> list[str]:
    """Conversations with their messages, share links and images (in the caller's
    transaction); the ids of the collections their attached documents went into, which the
    caller empties (``documents.delete_collections``) or leaves, as it chooses."""
    if not conversation_ids:
        return []
    delete_shares(conn, org_id, conversation_ids)
    attached = delete_attachments(conn, org_id, conversation_ids)
    conn.execute(
        delete(chat_messages).where(
            chat_messages.c.org_id == org_id,
            chat_messages.c.conversation_id.in_(conversation_ids),
        )
    )
    conn.execute(
        delete(conversations).where(
            conversations.c.org_id == org_id, conversations.c.id.in_(conversation_ids)
        )
    )
    return attached


class ConversationRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, org_id: str, member_id: str, title: str, model: str | None) -> Conversation:
        now = utcnow()
        values = {
            "id": new_id("conv"),
            "org_id": org_id,
            "member_id": member_id,
            "title": title[:TITLE_MAX],
            "model": model,
            "created_at": now,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            conn.execute(insert(conversations).values(**values))
        return _conversation(values)

    def search(
        self, org_id: str, member_id: str, query: str | None = None, limit: int = 200
    ) -> list[Conversation]:
        """The member's conversations, newest activity first; ``query`` matches titles."""
        c = conversations.c
        statement = (
            select(conversations)
            .where(c.org_id == org_id, c.member_id == member_id)
            .order_by(c.updated_at.desc(), c.id)
            .limit(limit)
        )
        if query:
            pattern = f"%{_escape_like(query.lower())}%"
            statement = statement.where(func.lower(c.title).like(pattern, escape=_LIKE_ESCAPE))
        with self.engine.connect() as conn:
            return [_conversation(row) for row in conn.execute(statement).mappings()]

    def get(self, org_id: str, member_id: str, conversation_id: str) -> Conversation | None:
        c = conversations.c
        statement = select(conversations).where(
            c.id == conversation_id, c.org_id == org_id, c.member_id == member_id
        )
        with self.engine.connect() as conn:
            row = conn.execute(statement).mappings().first()
        return _conversation(row) if row is not None else None

    def update(
        self,
        conversation: Conversation,
        *,
        title: str | None = None,
        model: str | None = None,
        collection_ids: list[str] | None = None,
    ) -> Conversation:
        values: dict[str, Any] = {"updated_at": utcnow()}
        if title is not None:
            values["title"] = title[:TITLE_MAX]
        if model is not None:
            values["model"] = model
        if collection_ids is not None:
            values["collection_ids"] = orjson.dumps(collection_ids).decode()
        c = conversations.c
        with self.engine.begin() as conn:
            conn.execute(
                update(conversations)
                .where(c.id == conversation.id, c.org_id == conversation.org_id)
                .values(**values)
            )
        found = self.get(conversation.org_id, conversation.member_id, conversation.id)
        assert found is not None
        return found

    def retitle(self, conversation: Conversation, expected: str, title: str) -> bool:
        """A generated title, only over the one it replaces: a rename meanwhile wins."""
        c = conversations.c
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(conversations)
                .where(
                    c.id == conversation.id,
                    c.org_id == conversation.org_id,
                    c.title == expected[:TITLE_MAX],
                )
                .values(title=title[:TITLE_MAX])
            ).rowcount
        return bool(changed)

    def delete(self, org_id: str, member_id: str, conversation_id: str) -> bool:
        """The conversation and every message in it, in one transaction."""
        c = conversations.c
        with self.engine.begin() as conn:
            owned = conn.execute(
                select(c.id).where(
                    c.id == conversation_id, c.org_id == org_id, c.member_id == member_id
                )
            ).first()
            if owned is None:
                return False
            delete_conversations(conn, org_id, [conversation_id])
        return True

    def messages(self, org_id: str, conversation_id: str) -> list[ChatMessage]:
        m = chat_messages.c
        statement = (
            select(chat_messages)
            .where(m.conversation_id == conversation_id, m.org_id == org_id)
            .order_by(m.position)
        )
        with self.engine.connect() as conn:
            rows = list(conn.execute(statement).mappings())
            usage = _usage_of(conn, org_id, rows)
        return [_message(row, usage.get(row["id"])) for row in rows]

    def message(self, org_id: str, message_id: str) -> ChatMessage | None:
        m = chat_messages.c
        statement = select(chat_messages).where(m.id == message_id, m.org_id == org_id)
        with self.engine.connect() as conn:
            row = conn.execute(statement).mappings().first()
            if row is None:
                return None
            usage = _usage_of(conn, org_id, [row])
        return _message(row, usage.get(row["id"]))

    def append(
        self,
        conversation: Conversation,
        role: Role,
        content: str,
        *,
        model: str | None,
        status: Status,
    ) -> ChatMessage:
        m = chat_messages.c
        now = utcnow()
        values: dict[str, Any] = {
            "id": new_id("msg"),
            "conversation_id": conversation.id,
            "org_id": conversation.org_id,
            "role": role,
            "content": content,
            "model": model,
            "status": status,
            "error": None,
            "error_code": None,
            "call_id": None,
            "retrieval_call_id": None,
            "citations": None,
            "created_at": now,
        }
        # Two sends racing in one conversation (two tabs, a script) must not take
        # the same place: PostgreSQL locks the conversation's row for the
        # transaction; SQLite, where the lock clause does not exist, takes its
        # write lock first (BEGIN IMMEDIATE: racing sends wait their turn, up to
        # the busy timeout, instead of all reading the same last place). The
        # unique (conversation, position) is the last word: a loser retries.
        for attempt in range(_APPEND_ATTEMPTS):
            try:
                with self.engine.begin() as conn:
                    if conn.dialect.name == "sqlite":
                        conn.exec_driver_sql("BEGIN IMMEDIATE")
                    conn.execute(
                        select(conversations.c.id)
                        .where(conversations.c.id == conversation.id)
                        .with_for_update()
                    )
                    last = conn.execute(
                        select(func.max(m.position)).where(m.conversation_id == conversation.id)
                    ).scalar()
                    values["position"] = 0 if last is None else int(last) + 1
                    conn.execute(insert(chat_messages).values(**values))
                    conn.execute(
                        update(conversations)
                        .where(conversations.c.id == conversation.id)
                        .values(updated_at=now)
                    )
                break
            except IntegrityError:
                if attempt == _APPEND_ATTEMPTS - 1:
                    raise Conflict(
                        "Another message is being added to this conversation; try again."
                    ) from None
        return _message(values, None)

    def finish(
        self,
        org_id: str,
        message_id: str,
        *,
        content: str,
        status: Status,
        call_id: str | None,
        retrieval_call_id: str | None,
        citations: Iterable[Citation],
        error: str | None = None,
        error_code: str | None = None,
    ) -> ChatMessage:
        """Write an answer's final state; its usage is then read from the ledger."""
        m = chat_messages.c
        with self.engine.begin() as conn:
            conn.execute(
                update(chat_messages)
                .where(m.id == message_id, m.org_id == org_id)
                .values(
                    content=content,
                    status=status,
                    call_id=call_id,
                    retrieval_call_id=retrieval_call_id,
                    citations=orjson.dumps([c.to_dict() for c in citations]).decode(),
                    error=error[:500] if error else None,
                    error_code=error_code[:64] if error_code else None,
                )
            )
        found = self.message(org_id, message_id)
        assert found is not None
        return found

    def set_content(self, org_id: str, message_id: str, content: str) -> None:
        m = chat_messages.c
        with self.engine.begin() as conn:
            conn.execute(
                update(chat_messages)
                .where(m.id == message_id, m.org_id == org_id)
                .values(content=content)
            )

    def drop_from(self, org_id: str, conversation_id: str, position: int) -> None:
        """Forget the messages from ``position`` on (regenerate, edit and resend)."""
        m = chat_messages.c
        with self.engine.begin() as conn:
            conn.execute(
                delete(chat_messages).where(
                    m.conversation_id == conversation_id,
                    m.org_id == org_id,
                    m.position >= position,
                )
            )


def _usage_of(
    conn: Connection, org_id: str, rows: Sequence[Mapping[Any, Any]]
) -> dict[str, MessageUsage]:
    """Each answer's tokens and cost: its ledger rows, summed (BYOK at list price)."""
    calls: dict[str, str] = {}
    for row in rows:
        for call_id in (row["call_id"], row["retrieval_call_id"]):
            if call_id:
                calls[call_id] = row["id"]
    if not calls:
        return {}
    e = ledger_entries.c
    found = conn.execute(
        select(
            e.call_id,
            e.mode,
            e.endpoint,
            e.prompt_tokens,
            e.completion_tokens,
            e.list_cost_micros,
            e.charged_micros,
            e.usage_estimated,
        ).where(e.org_id == org_id, e.call_id.in_(list(calls)))
    ).mappings()
    totals: dict[str, MessageUsage] = {}
    for entry in found:
        message_id = calls[entry["call_id"]]
        cost = entry["charged_micros"] if entry["mode"] == "shared" else entry["list_cost_micros"]
        chat = entry["endpoint"] == "chat"
        previous = totals.get(message_id, MessageUsage(0, 0, 0, False))
        totals[message_id] = MessageUsage(
            prompt_tokens=previous.prompt_tokens + (entry["prompt_tokens"] if chat else 0),
            completion_tokens=previous.completion_tokens + entry["completion_tokens"],
            cost_micros=previous.cost_micros + int(cost or 0),
            estimated=previous.estimated or bool(entry["usage_estimated"]),
        )
    return totals
