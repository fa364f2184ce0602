"""Extraction and chunking in a child process, with a deadline.

Parsing an upload is CPU-bound Python (pypdf, BeautifulSoup, markdown-it):
run in the server's own process it would hold the GIL and add latency to
every ``/v1`` call on that replica, and a file built to be slow to parse
could hold a worker for minutes. So it runs in one long-lived child process
(started with ``spawn``: no copy of the server's threads or sockets), and a
file that takes longer than the deadline has its child terminated and ends
``failed`` with a clear reason; the next document gets a fresh child.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.pool import Pool
from typing import Final

from chatgrid.documents.chunking import ChunkDraft, chunk_document
from chatgrid.documents.extract_model import ExtractionFailed


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the child sends back: the pieces, or an error's message, code and status.

    Errors travel as plain values: a ``ChatGridError`` does not survive
    pickling with its code and status.
    """

    pages: int | None = None
    drafts: list[ChunkDraft] = field(default_factory=list)
    error: tuple[str, str | None, int] | None = None


DEFAULT_DEADLINE_SECONDS: Final = 120.0
_POLL_SECONDS: Final = 0.2


class SandboxClosed(Exception):
    """The server is stopping; the document stays claimed and is taken again later."""


def extract_and_chunk(
    filename: str, content_type: str | None, data: bytes, max_bytes: int, max_pages: int
) -> Outcome:
    """In the child: the document's page count and chunks, or why it cannot be read."""
    from chatgrid.documents.extract import extract  # the parsers load in the child only

    try:
        document = extract(filename, content_type, data, max_bytes=max_bytes, max_pages=max_pages)
    except ExtractionFailed as error:
        return Outcome(error=(error.message, error.code, error.status))
    return Outcome(pages=document.pages, drafts=chunk_document(document))


def _quiet_child() -> None:
    """The child logs nothing of what it reads: parser warnings quote the document."""
    logging.disable(logging.WARNING)


class ExtractionSandbox:
    """One child process that extracts documents, replaced after a timeout or a crash."""

    def __init__(self, deadline_seconds: float = DEFAULT_DEADLINE_SECONDS) -> None:
        self.deadline_seconds = deadline_seconds
        self._pool: Pool | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def _child(self) -> Pool:
        with self._lock:
            if self._pool is None:
                context = multiprocessing.get_context("spawn")
                self._pool = context.Pool(processes=1, initializer=_quiet_child)
            return self._pool

    def _discard(self, pool: Pool) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.terminate()

    def close(self) -> None:
        """Stop the child; a document being read is abandoned (its claim is retried later)."""
        self._closed.set()
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()
            pool.join()

    async def run(
        self,
        filename: str,
        content_type: str | None,
        data: bytes,
        *,
        max_bytes: int,
        max_pages: int,
    ) -> tuple[int | None, list[ChunkDraft]]:
        """The page count and chunks of one upload; ``ExtractionFailed`` when unreadable."""
        return await asyncio.to_thread(
            self._run_blocking, filename, content_type, data, max_bytes, max_pages
        )

    def _run_blocking(
        self,
        filename: str,
        content_type: str | None,
        data: bytes,
        max_bytes: int,
        max_pages: int,
    ) -> tuple[int | None, list[ChunkDraft]]:
        pool = self._child()
        pending = pool.apply_async(
            extract_and_chunk, (filename, content_type, data, max_bytes, max_pages)
        )
        deadline = time.monotonic() + self.deadline_seconds
        # Wait in short steps: a result never comes from a terminated child,
        # and shutting down must not wait out a whole deadline.
        while not pending.ready():
            if self._closed.is_set():
                raise SandboxClosed
            if time.monotonic() >= deadline:
                self._discard(pool)
                raise ExtractionFailed(
                    "This document took too long to read; try a smaller or simpler file.",
                    code="document_too_slow",
                    status=400,
                )
            pending.wait(_POLL_SECONDS)
        try:
            outcome: Outcome = pending.get()
        except Exception:  # the child died (a crash in a parser, out of memory)
            self._discard(pool)
            raise ExtractionFailed(
                "This document could not be read.", code="document_unreadable", status=400
            ) from None
        if outcome.error is not None:
            message, code, status = outcome.error
            raise ExtractionFailed(message, code=code, status=status)
        return outcome.pages, outcome.drafts
