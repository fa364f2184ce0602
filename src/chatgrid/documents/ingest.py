"""Background ingestion: extract, chunk, embed through the gateway, mark ready.

Extraction and chunking run in a child process with a deadline
(``documents/sandbox.py``), so parsing never competes with ``/v1`` for the
server's GIL and a hostile file cannot hold a worker forever.

Any replica may ingest any document: the uploaded bytes live in the
database and a document is claimed with a conditional update, so two
workers never take the same one, and one whose worker died is taken again
after ``STALE_AFTER_SECONDS``. Embeddings are made as the uploader, through
the gateway's own path, so they are billed, limited and ledgered like chat.
Progress (chunks embedded of chunks found) is written after every batch for
the page to show.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from chatgrid.documents.extract_model import ExtractionFailed
from chatgrid.documents.models import CHUNK_ROWS_PER_TRANSACTION, Document
from chatgrid.documents.ports import Embedder, IngestStore
from chatgrid.documents.sandbox import ExtractionSandbox, SandboxClosed
from chatgrid.errors import ChatGridError
from chatgrid.settings import Settings

log = logging.getLogger(__name__)

STALE_AFTER_SECONDS: Final = 300
EMBED_BATCH: Final = 64
IDLE_POLL_SECONDS: Final = 2.0


class Ingestor:
    """Runs ``CHATGRID_INGEST_WORKERS`` ingestion loops in this process until :meth:`stop`."""

    def __init__(self, store: IngestStore, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        workers = settings.ingest_workers
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        # One child process per loop: a timeout ends only its own document.
        self._sandboxes = [
            ExtractionSandbox(
                settings.extraction_timeout_seconds,
                max_memory_bytes=settings.extraction_max_memory_mb * 1024 * 1024,
            )
            for _ in range(workers)
        ]

    def start(self) -> None:
        self._tasks = [asyncio.ensure_future(self._loop(box)) for box in self._sandboxes]

    def wake(self) -> None:
        """A document was queued here: look now rather than at the next poll."""
        self._wake.set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for sandbox in self._sandboxes:
            await asyncio.to_thread(sandbox.close)

    async def _loop(self, sandbox: ExtractionSandbox) -> None:
        repo = self.store
        while True:
            try:
                document = await asyncio.to_thread(repo.claim_next, STALE_AFTER_SECONDS)
            except Exception:
                log.exception("could not look for documents to ingest")
                document = None
            if document is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)
                continue
            await self.ingest(document, sandbox)

    async def ingest(self, document: Document, sandbox: ExtractionSandbox) -> None:
        """Take one claimed document to ready or failed; never raises."""
        repo = self.store
        org_id, document_id = document.org_id, document.id
        try:
            await self._ingest(document, sandbox)
        except SandboxClosed:
            return  # stopping: the claim goes stale and another worker takes it again
        except ChatGridError as error:
            if isinstance(error, ExtractionFailed):
                log.info(
                    "document=%s failed: %s (child_peak_memory_mb=%s)",
                    document_id,
                    error.code,
                    (sandbox.last_peak_memory_bytes or 0) // (1024 * 1024),
                )
            await asyncio.to_thread(repo.mark_failed, org_id, document_id, error.message)
        except Exception:
            log.exception("ingestion failed: document=%s", document_id)
            await asyncio.to_thread(
                repo.mark_failed, org_id, document_id, "The document could not be processed."
            )

    async def _ingest(self, document: Document, sandbox: ExtractionSandbox) -> None:
        repo = self.store
        settings = self.settings
        org_id, document_id = document.org_id, document.id
        data = await asyncio.to_thread(repo.file_bytes, org_id, document_id)
        if data is None:
            return  # deleted while queued
        pages, drafts = await sandbox.run(
            document.filename,
            document.content_type,
            data,
            max_bytes=settings.document_max_bytes,
            max_pages=settings.document_max_pages,
        )
        del data
        log.info(
            "extracted document=%s chunks=%d child_peak_memory_mb=%s",
            document_id,
            len(drafts),
            (sandbox.last_peak_memory_bytes or 0) // (1024 * 1024),
        )
        if not drafts:
            raise ChatGridError("No text was found in this document.", status=400)
        # In short steps, back to the event loop between them: one long
        # insert held the GIL and SQLite's write lock against /v1 for seconds.
        await asyncio.to_thread(repo.clear_chunks, org_id, document_id)
        chunk_ids: list[str] = []
        for start in range(0, len(drafts), CHUNK_ROWS_PER_TRANSACTION):
            batch = drafts[start : start + CHUNK_ROWS_PER_TRANSACTION]
            chunk_ids += await asyncio.to_thread(repo.add_chunks, org_id, document_id, batch)
        await asyncio.to_thread(repo.count_chunks, org_id, document_id, len(chunk_ids), pages)
        for start in range(0, len(drafts), EMBED_BATCH):
            texts = [draft.text for draft in drafts[start : start + EMBED_BATCH]]
            vectors, _ = await self.embedder.embed(
                org_id,
                document.uploaded_by,
                texts,
                settings.embedding_model,
                settings.embedding_dimensions,
            )
            pairs = list(zip(chunk_ids[start : start + EMBED_BATCH], vectors, strict=True))
            await asyncio.to_thread(repo.set_embeddings, org_id, document_id, pairs)
        await asyncio.to_thread(repo.mark_ready, org_id, document_id)
