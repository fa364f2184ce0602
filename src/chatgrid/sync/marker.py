"""Tell running servers that admin state changed, so caches never serve stale keys.

The gateway caches tokens and credentials in memory (no database round trip
per request). Every admin change commits, then bumps this marker; the
gateway checks the marker on each request (one ``stat`` call) and drops its
caches when it moved. Because the bump happens before the admin command
returns, a revoked key is never used once the command has returned.

The marker is a file in the data dir, shared by every process on this
machine. Replicas on several machines share state through Redis instead
(see ``docs/operations.md``).
"""

from __future__ import annotations

import os
from pathlib import Path

MARKER_NAME = "changes.marker"


class ChangeMarker:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / MARKER_NAME
        self._seen: tuple[int, int, int] | None = None

    def bump(self) -> None:
        """Publish a change by appending a byte.

        The size only grows, so every bump is seen even when two land within
        the file system's timestamp granularity (which a rename would not
        guarantee: inode numbers are reused).
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, b".")
        finally:
            os.close(fd)

    def _stamp(self) -> tuple[int, int, int]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return (0, 0, 0)
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def changed(self) -> bool:
        """True the first time it is asked after a bump (and on the very first call)."""
        stamp = self._stamp()
        if stamp == self._seen:
            return False
        self._seen = stamp
        return True
