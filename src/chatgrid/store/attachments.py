"""A conversation's attachments: the link to its private collection, and its images.

Every read and write takes the org id and the conversation id, so nothing
here is reachable from another org. The collection itself belongs to
``store/documents.py``; only the link is kept here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from chatgrid.chat.models import AttachedImage
from chatgrid.store.document_sealing import DocumentSealing
from chatgrid.store.ids import new_id
from chatgrid.store.tables import conversation_collections, conversation_images
from chatgrid.store.types import utcnow

_META = [
    conversation_images.c.id,
    conversation_images.c.org_id,
    conversation_images.c.conversation_id,
    conversation_images.c.message_id,
    conversation_images.c.filename,
    conversation_images.c.media_type,
    conversation_images.c.size_bytes,
    conversation_images.c.created_at,
]


def _image(row: Mapping[Any, Any]) -> AttachedImage:
    return AttachedImage(
        id=row["id"],
        org_id=row["org_id"],
        conversation_id=row["conversation_id"],
        message_id=row["message_id"],
        filename=row["filename"],
        media_type=row["media_type"],
        size_bytes=row["size_bytes"],
        created_at=row["created_at"],
    )


def delete_attachments(conn: Connection, org_id: str, conversation_ids: Sequence[str]) -> list[str]:
    """Conversations being deleted take their images and collection links with them (called
    in that transaction, one statement each whatever their number); returns the linked
    collections' ids for the caller to empty."""
    i, k = conversation_images.c, conversation_collections.c
    conn.execute(
        delete(conversation_images).where(
            i.org_id == org_id, i.conversation_id.in_(conversation_ids)
        )
    )
    where = (k.org_id == org_id, k.conversation_id.in_(conversation_ids))
    linked = [str(found) for found in conn.execute(select(k.collection_id).where(*where)).scalars()]
    conn.execute(delete(conversation_collections).where(*where))
    return linked


class AttachmentRepository:
    """A conversation's attached collection and images; images sealed with the org's data
    key (``sealing``, shared with the documents' repository)."""

    def __init__(self, engine: Engine, sealing: DocumentSealing) -> None:
        self.engine = engine
        self.sealing = sealing

    # The private collection ---------------------------------------------

    def collection_of(self, org_id: str, conversation_id: str) -> str | None:
        k = conversation_collections.c
        statement = select(k.collection_id).where(
            k.org_id == org_id, k.conversation_id == conversation_id
        )
        with self.engine.connect() as conn:
            found = conn.execute(statement).scalar()
        return str(found) if found is not None else None

    def link_collection(
        self, org_id: str, conversation_id: str, collection_id: str, replacing: str | None
    ) -> str:
        """Link the collection (in place of ``replacing``, a link to one since deleted).

        If another request linked one first, that one wins and is returned; the
        caller then drops its own.
        """
        k = conversation_collections.c
        values = {
            "conversation_id": conversation_id,
            "org_id": org_id,
            "collection_id": collection_id,
            "created_at": utcnow(),
        }
        try:
            with self.engine.begin() as conn:
                if replacing is not None:
                    conn.execute(
                        delete(conversation_collections).where(
                            k.org_id == org_id,
                            k.conversation_id == conversation_id,
                            k.collection_id == replacing,
                        )
                    )
                conn.execute(insert(conversation_collections).values(**values))
        except IntegrityError:
            found = self.collection_of(org_id, conversation_id)
            if found is None:
                raise
            return found
        return collection_id

    # Images ---------------------------------------------------------------

    def add_image(
        self,
        org_id: str,
        conversation_id: str,
        member_id: str,
        filename: str,
        media_type: str,
        data: bytes,
    ) -> AttachedImage:
        image_id = new_id("img")
        stored, sealed = self.sealing.image(org_id, image_id, data)
        values = {
            "id": image_id,
            "org_id": org_id,
            "conversation_id": conversation_id,
            "member_id": member_id,
            "message_id": None,
            "filename": filename,
            "media_type": media_type,
            "size_bytes": len(data),
            "data": stored,
            "sealed": sealed,
            "created_at": utcnow(),
        }
        with self.engine.begin() as conn:
            conn.execute(insert(conversation_images).values(**values))
        return _image(values)

    def images(self, org_id: str, conversation_id: str) -> list[AttachedImage]:
        """Oldest first, without their bytes (a listing does not need them)."""
        i = conversation_images.c
        statement = (
            select(*_META)
            .where(i.org_id == org_id, i.conversation_id == conversation_id)
            .order_by(i.created_at, i.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(statement).mappings().all()
        return [_image(row) for row in rows]

    def image_bytes(
        self, org_id: str, conversation_id: str, image_ids: list[str]
    ) -> dict[str, bytes]:
        if not image_ids:
            return {}
        i = conversation_images.c
        statement = select(i.id, i.data, i.sealed).where(
            i.org_id == org_id, i.conversation_id == conversation_id, i.id.in_(image_ids)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(statement).all()
        open_image = self.sealing.open_image
        return {row.id: open_image(org_id, row.id, bytes(row.data), row.sealed) for row in rows}

    def seal_plain_images(self, batch: int) -> int:
        """Seal up to ``batch`` images attached before images were encrypted at rest, in one
        short transaction; how many (0: none is left)."""
        if self.sealing.keys is None:
            return 0
        i = conversation_images.c
        with self.engine.begin() as conn:
            plain = conn.execute(
                select(i.id, i.org_id, i.data).where(i.sealed.is_(False)).limit(batch)
            ).all()
            for row in plain:
                stored, sealed = self.sealing.image(row.org_id, row.id, bytes(row.data))
                conn.execute(
                    update(conversation_images)
                    .where(i.id == row.id, i.sealed.is_(False))
                    .values(data=stored, sealed=sealed)
                )
        return len(plain)

    def pending_count(self, org_id: str, conversation_id: str) -> int:
        i = conversation_images.c
        statement = select(func.count()).where(
            i.org_id == org_id, i.conversation_id == conversation_id, i.message_id.is_(None)
        )
        with self.engine.connect() as conn:
            return int(conn.execute(statement).scalar() or 0)

    def claim_images(
        self, org_id: str, conversation_id: str, image_ids: list[str], message_id: str
    ) -> None:
        """The images a turn sent now belong to its question."""
        if not image_ids:
            return
        i = conversation_images.c
        with self.engine.begin() as conn:
            conn.execute(
                update(conversation_images)
                .where(
                    i.org_id == org_id,
                    i.conversation_id == conversation_id,
                    i.id.in_(image_ids),
                    i.message_id.is_(None),
                )
                .values(message_id=message_id)
            )

    def delete_image(self, org_id: str, conversation_id: str, image_id: str) -> bool:
        """Only an image not yet sent can be taken back."""
        i = conversation_images.c
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(conversation_images).where(
                    i.org_id == org_id,
                    i.conversation_id == conversation_id,
                    i.id == image_id,
                    i.message_id.is_(None),
                )
            )
        return result.rowcount > 0
