"""What the documents part hands to the rest of ChatGrid: plain values, no SQL.

A collection belongs to the org (``owner_member_id`` is None: every member
sees it) or to one member (private). A document is one uploaded file; its
chunks are the passages retrieval returns, each cited by chunk id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

#: Chunks written per transaction: one long insert held the GIL and SQLite's
#: write lock against /v1 for seconds, so ingestion stores them in steps.
CHUNK_ROWS_PER_TRANSACTION = 200


class DocumentStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class Collection:
    id: str
    org_id: str
    owner_member_id: str | None
    name: str
    created_at: datetime

    @property
    def is_private(self) -> bool:
        return self.owner_member_id is not None

    def visible_to(self, member_id: str) -> bool:
        """Shared collections are every member's to read; a private one its owner's alone."""
        return self.owner_member_id is None or self.owner_member_id == member_id


@dataclass(frozen=True)
class Document:
    id: str
    org_id: str
    collection_id: str
    uploaded_by: str
    filename: str
    content_type: str
    size_bytes: int
    status: str
    error: str | None
    pages: int | None
    chunks_total: int
    chunks_done: int
    created_at: datetime
    updated_at: datetime
    sha256: str = ""
    attempts: int = 0


@dataclass(frozen=True)
class Chunk:
    id: str
    org_id: str
    collection_id: str
    document_id: str
    ordinal: int
    heading: str | None
    page: int | None
    text: str


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk with where it came from and why it ranked.

    ``keyword_rank`` and ``vector_rank`` are 1-based positions in each list
    (None: that side did not find it), kept so a citation can say why.
    """

    chunk_id: str
    document_id: str
    filename: str
    collection_id: str
    heading: str | None
    page: int | None
    text: str
    score: float
    keyword_rank: int | None
    vector_rank: int | None


@dataclass(frozen=True)
class PassageRow:
    """A chunk's text and source, as storage returns it before it is scored."""

    chunk_id: str
    document_id: str
    filename: str
    collection_id: str
    heading: str | None
    page: int | None
    text: str


class ChunkDraftLike(Protocol):
    """The shape chunking produces (``chunking.ChunkDraft``); kept structural so
    storage does not depend on the extraction code."""

    @property
    def ordinal(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def heading(self) -> str | None: ...

    @property
    def page(self) -> int | None: ...
