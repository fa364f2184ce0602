"""Bodies of composer attachments, each beside its converter."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from chatgrid.chat.attachments import Attached


class AttachmentPublic(BaseModel):
    kind: Literal["document", "image"]
    id: str
    filename: str
    size_bytes: int
    #: a document's ingestion status (queued, ready, failed...); an image's
    #: ``waiting`` (goes with the next message) or ``sent``
    status: str


def attachment_public(attached: Attached) -> AttachmentPublic:
    return AttachmentPublic(
        kind=attached.kind,
        id=attached.id,
        filename=attached.filename,
        size_bytes=attached.size_bytes,
        status=attached.status,
    )
