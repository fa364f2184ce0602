"""The extraction child is ended by its server only, and never outlives it.

A process group's SIGTERM or SIGINT (systemd, Kubernetes, a terminal's
Ctrl-C) reaches the child too; it must go on reading, since its server
stops it itself once its own requests have drained. A server that dies
(SIGKILL) must not leave the child behind, even one in the middle of a
document.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from chatgrid.documents.sandbox import ExtractionSandbox
from tests.support.hostile_corpus import MiB, huge_text
from tests.support.process_groups import wait_until_gone

BIG = {"max_bytes": 20 * MiB, "max_pages": 50}
GENEROUS = 120.0


def _child_pid(box: ExtractionSandbox) -> int:
    deadline = time.monotonic() + GENEROUS
    while box._child is None or box._child.process.pid is None:
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.01)
    return box._child.process.pid


def test_the_groups_sigterm_and_sigint_do_not_stop_a_document_being_read() -> None:
    box = ExtractionSandbox(deadline_seconds=600)
    results: list[object] = []
    text = huge_text(20 * MiB)

    def read() -> None:
        try:
            results.append(asyncio.run(box.run("big.md", "text/markdown", text, **BIG)))
        except BaseException as error:  # what the reader saw
            results.append(error)

    try:
        _, warm = asyncio.run(box.run("a.txt", "text/plain", b"warm up", **BIG))
        assert warm
        pid = _child_pid(box)
        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(0.2)  # the job is on its way to the child
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGINT)
        reader.join(GENEROUS)
        assert not reader.is_alive()
        assert len(results) == 1 and isinstance(results[0], tuple), results
        _, drafts = results[0]
        assert drafts
        assert box.children_started == 1  # the same child answered
    finally:
        box.close()


SERVER = """
import asyncio, sys, threading, time
from chatgrid.documents.sandbox import ExtractionSandbox
from tests.support.hostile_corpus import MiB, huge_text
box = ExtractionSandbox(deadline_seconds=600)
asyncio.run(box.run("a.txt", "text/plain", b"warm up", max_bytes=MiB, max_pages=5))
print(box._child.process.pid, flush=True)
big = huge_text(20 * MiB)
reading = threading.Thread(
    target=lambda: asyncio.run(
        box.run("big.md", "text/markdown", big, max_bytes=20 * MiB, max_pages=50)
    ),
    daemon=True,
)
reading.start()
time.sleep(600)
"""


def test_a_child_whose_server_was_killed_mid_document_exits_by_itself() -> None:
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdout=subprocess.PIPE, cwd=root, text=True
    )
    try:
        assert server.stdout is not None
        child = int(server.stdout.readline())
        time.sleep(0.5)  # the big document is being read
        server.kill()
        server.wait()
        assert not wait_until_gone({child}, GENEROUS), "the extraction child outlived its server"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
