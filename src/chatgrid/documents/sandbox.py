"""Extraction and chunking in a child process, with a deadline and a memory limit.

Parsing an upload is CPU-bound Python (pypdf, python-docx, markdown-it):
run in the server's own process it would hold the GIL and add latency to
every ``/v1`` call on that replica, and a file built to be slow or large to
parse could hold a worker for minutes or take the machine's memory. So it
runs in a child process (started with ``spawn``: no copy of the server's
threads or sockets) that:

- has its address space and data segment capped (``RLIMIT_AS`` and
  ``RLIMIT_DATA``): an allocation past the cap fails inside the child, which
  reports the document as too large to read instead of the kernel's OOM
  killer choosing a victim on the host;
- is replaced after it times out, dies or runs out of memory, and retires
  itself after any document that pushed its peak memory past
  ``recycle_after_bytes``, since a Python process rarely gives memory back;
- reports its own peak memory with every answer, so the limit can be seen to
  hold (``last_peak_memory_bytes``);
- is ended only by its parent: it ignores SIGTERM and SIGINT, which
  systemd, Kubernetes and a terminal send to the whole process group. One
  that died of the group's signal mid-document would otherwise look like a
  document that killed its reader (marked unreadable for good), and the
  server, which drains its own requests first, stops the child itself;
- exits on its own when the server is gone (the pipe's end of file between
  documents; a watchdog thread that sees its parent change while reading),
  so a server ended by SIGKILL leaves no orphan behind.

The child is a plain ``Process`` on a ``Pipe`` rather than a ``Pool``: a
pool's worker that dies takes its task with it and the caller would only
learn of it at the deadline, whereas the process's sentinel says so at once.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import resource
import signal
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Final

from chatgrid.documents.chunking import ChunkDraft, chunk_document
from chatgrid.documents.extract_model import ExtractionFailed

DEFAULT_DEADLINE_SECONDS: Final = 120.0
DEFAULT_MAX_MEMORY_BYTES: Final = 1024 * 1024 * 1024
MIN_MEMORY_BYTES: Final = 256 * 1024 * 1024
"""Below this the child cannot even import its parsers."""

RECYCLE_AFTER_PEAK_BYTES: Final = 384 * 1024 * 1024
_NEAR_LIMIT: Final = 0.9
_POLL_SECONDS: Final = 0.2
_EXIT_WAIT_SECONDS: Final = 5.0
_ORPHAN_CHECK_SECONDS: Final = 0.5
_STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    filename: str
    content_type: str | None
    data: bytes
    max_bytes: int
    max_pages: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the child sends back: the pieces, or an error's message, code and status.

    Errors travel as plain values: a ``ChatGridError`` does not survive
    pickling with its code and status. ``retiring`` says the child exits
    after this answer (its memory is not worth keeping).
    """

    pages: int | None = None
    drafts: list[ChunkDraft] = field(default_factory=list)
    error: tuple[str, str | None, int] | None = None
    peak_memory_bytes: int = 0
    retiring: bool = False


class SandboxClosed(Exception):
    """The server is stopping (or its reader was stopped from outside): the document
    stays claimed and is taken again later."""


def too_much_memory() -> ExtractionFailed:
    return ExtractionFailed(
        "This document needs more memory to read than this server allows; "
        "try a smaller file or split it into parts.",
        code="document_too_large",
        status=413,
    )


def too_slow() -> ExtractionFailed:
    return ExtractionFailed(
        "This document took too long to read; try a smaller or simpler file.",
        code="document_too_slow",
        status=400,
    )


def reader_died() -> ExtractionFailed:
    return ExtractionFailed(
        "This document could not be read: reading it stopped the reader. "
        "It may be damaged or need more memory than this server allows.",
        code="document_unreadable",
        status=400,
    )


def extract_and_chunk(job: Job) -> Outcome:
    """In the child: the document's page count and chunks, or why it cannot be read."""
    from chatgrid.documents.extract import extract  # the parsers load in the child only

    try:
        document = extract(
            job.filename,
            job.content_type,
            job.data,
            max_bytes=job.max_bytes,
            max_pages=job.max_pages,
        )
        drafts = chunk_document(document)
    except MemoryError:
        return _failure(too_much_memory(), retiring=True)
    except ExtractionFailed as error:
        if _caused_by_memory(error) or _near_memory_limit():
            return _failure(too_much_memory(), retiring=True)
        return _failure(error)
    return Outcome(pages=document.pages, drafts=drafts, peak_memory_bytes=peak_memory_bytes())


def _failure(error: ExtractionFailed, *, retiring: bool = False) -> Outcome:
    return Outcome(
        error=(error.message, error.code, error.status),
        peak_memory_bytes=peak_memory_bytes(),
        retiring=retiring,
    )


def _caused_by_memory(error: BaseException) -> bool:
    """A parser that turned a failed allocation into its own error still ran out of memory."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, MemoryError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _near_memory_limit() -> bool:
    """Whether this process's address space reached its limit: lxml reports a failed
    allocation as a syntax error ("unknown error"), so the error alone cannot say."""
    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    peak = _status_bytes("/proc/self/status", "VmPeak:")
    if limit == resource.RLIM_INFINITY or peak is None:
        return False
    return peak >= limit * _NEAR_LIMIT


def peak_memory_bytes() -> int:
    """This process's peak resident memory (``VmHWM``).

    Not ``ru_maxrss``: Linux carries that over from the parent across fork
    and exec, so a child of a large server would report the server's size.
    """
    return _status_bytes("/proc/self/status", "VmHWM:") or 0


def _status_bytes(path: str, field: str) -> int | None:
    """One ``kB`` field of a ``/proc/PID/status`` file, in bytes (None: not there)."""
    try:
        with open(path, encoding="ascii") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _ignore_stop_signals() -> None:
    """The group's SIGTERM/SIGINT are the server's to handle; this child is ended by it."""
    for number in _STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)


def _exit_when_orphaned(parent_pid: int) -> None:
    """In a thread of the child: leave at once once the server is gone, even mid-document."""
    while os.getppid() == parent_pid:
        time.sleep(_ORPHAN_CHECK_SECONDS)
    os._exit(0)


def _serve(
    conn: Connection, max_memory_bytes: int, recycle_after_bytes: int, parent_pid: int
) -> None:
    """The child's loop: limit itself, load the parsers, then answer jobs until retired."""
    _ignore_stop_signals()
    threading.Thread(
        target=_exit_when_orphaned, args=(parent_pid,), name="orphan-watch", daemon=True
    ).start()
    for limit in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
        resource.setrlimit(limit, (max_memory_bytes, max_memory_bytes))
    # The child logs nothing of what it reads: parser warnings quote the document.
    logging.disable(logging.WARNING)
    import chatgrid.documents.extract  # noqa: F401 (loaded before the first job's deadline starts)

    while True:
        try:
            job: Job = conn.recv()
        except EOFError:  # the server went away
            return
        try:
            outcome = extract_and_chunk(job)
        except MemoryError:  # in chunking or pickling, outside the parsers' own handling
            outcome = _failure(too_much_memory(), retiring=True)
        del job
        if outcome.peak_memory_bytes > recycle_after_bytes:
            outcome = Outcome(
                pages=outcome.pages,
                drafts=outcome.drafts,
                error=outcome.error,
                peak_memory_bytes=outcome.peak_memory_bytes,
                retiring=True,
            )
        conn.send(outcome)
        if outcome.retiring:
            return


@dataclass(slots=True)
class _Child:
    process: BaseProcess
    conn: Connection

    def peak_memory_bytes(self) -> int | None:
        """The child's peak resident memory, while it is still running."""
        return _status_bytes(f"/proc/{self.process.pid}/status", "VmHWM:")

    def stop(self) -> None:
        self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(_EXIT_WAIT_SECONDS)


class ExtractionSandbox:
    """One child process at a time, replaced after a timeout, a crash or a large document."""

    def __init__(
        self,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
        max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES,
        recycle_after_bytes: int = RECYCLE_AFTER_PEAK_BYTES,
    ) -> None:
        if max_memory_bytes < MIN_MEMORY_BYTES:
            raise ValueError(f"max_memory_bytes must be at least {MIN_MEMORY_BYTES}")
        self.deadline_seconds = deadline_seconds
        self.max_memory_bytes = max_memory_bytes
        self.recycle_after_bytes = min(recycle_after_bytes, max_memory_bytes)
        #: The peak resident memory of the child that read the last document (None: unknown).
        self.last_peak_memory_bytes: int | None = None
        #: How many children this sandbox has started (each replacement counts).
        self.children_started = 0
        self._child: _Child | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def _current(self) -> _Child:
        with self._lock:
            if self._closed.is_set():
                raise SandboxClosed
            if self._child is None or not self._child.process.is_alive():
                if self._child is not None:
                    self._child.stop()
                context = multiprocessing.get_context("spawn")
                parent, child = context.Pipe()
                process = context.Process(
                    target=_serve,
                    args=(child, self.max_memory_bytes, self.recycle_after_bytes, os.getpid()),
                    name="chatgrid-extraction",
                    daemon=True,
                )
                process.start()
                child.close()
                self._child = _Child(process, parent)
                self.children_started += 1
            return self._child

    def _discard(self, child: _Child) -> None:
        with self._lock:
            if self._child is child:
                self._child = None
        child.stop()

    def close(self) -> None:
        """Stop the child; a document being read is abandoned (its claim is retried later)."""
        self._closed.set()
        with self._lock:
            child, self._child = self._child, None
        if child is not None:
            child.stop()

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
        job = Job(filename, content_type, data, max_bytes, max_pages)
        return await asyncio.to_thread(self._run_blocking, job)

    def _run_blocking(self, job: Job) -> tuple[int | None, list[ChunkDraft]]:
        self.last_peak_memory_bytes = None
        child = self._current()
        if not self._send(child, job):
            # It died between documents (it is never expected to): one fresh try.
            self._discard(child)
            child = self._current()
            if not self._send(child, job):
                self._discard(child)
                raise reader_died()
        outcome = self._wait(child)
        self.last_peak_memory_bytes = outcome.peak_memory_bytes
        if outcome.retiring:
            self._discard(child)
        if outcome.error is not None:
            message, code, status = outcome.error
            raise ExtractionFailed(message, code=code, status=status)
        return outcome.pages, outcome.drafts

    def _send(self, child: _Child, job: Job) -> bool:
        """Hand the job over; False if the child is gone (``SandboxClosed`` if we are stopping)."""
        try:
            child.conn.send(job)
        except (OSError, TypeError, ValueError):  # a pipe closed under the write raises any
            if self._closed.is_set():
                raise SandboxClosed from None
            return False
        return True

    def _wait(self, child: _Child) -> Outcome:
        """The child's answer; a deadline, a death or the server stopping ends the wait.

        Waits in short steps: shutting down must not wait out a whole deadline.
        """
        deadline = time.monotonic() + self.deadline_seconds
        while True:
            if self._closed.is_set():
                raise SandboxClosed
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.last_peak_memory_bytes = child.peak_memory_bytes()
                self._discard(child)
                raise too_slow()
            ready = wait([child.conn, child.process.sentinel], min(_POLL_SECONDS, remaining))
            if child.conn in ready:
                try:
                    outcome: Outcome = child.conn.recv()
                except (EOFError, OSError):
                    pass  # it died while answering: treated as a death below
                else:
                    return outcome
            if ready:
                if self._closed.is_set():
                    raise SandboxClosed
                exitcode = child.process.exitcode
                self._discard(child)
                if exitcode is not None and -exitcode in _STOP_SIGNALS:
                    # Stopped from outside before it could ignore the signal (it was
                    # starting): not the document's doing, so it is read again later.
                    log.warning("the extraction child was stopped by signal %s", -exitcode)
                    raise SandboxClosed
                log.warning("the extraction child died (exit code %s)", exitcode)
                raise reader_died()
