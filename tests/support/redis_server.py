"""A Redis server a test owns, so it can kill it, bring it back empty, or restore a snapshot.

The shared Redis at 127.0.0.1:6379 must never be stopped by a test; these
tests start their own ``redis-server`` on a free port instead (``make test``
installs it when missing).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from tests.support.processes import free_port

SNAPSHOT = "dump.rdb"


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("redis-server is not installed (`make test` installs it)")
    return found


@dataclass
class OwnRedis:
    """One ``redis-server`` process; ``restart()`` brings a new process up on the same port."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start on this port; it loads ``dump.rdb`` from the directory if one is there."""
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--dbfilename",
            SNAPSHOT,
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 10
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server did not start on {self.port}") from None
                    time.sleep(0.02)
        finally:
            client.close()

    def kill(self) -> None:
        """Stop at once, as a crash does: nothing is saved."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def snapshot(self) -> None:
        """Save the data set now; the next ``restart(from_snapshot=True)`` comes back to it."""
        client = redis.Redis(port=self.port)
        try:
            client.save()
        finally:
            client.close()

    def restart(self, *, from_snapshot: bool = False) -> None:
        """A crash and a new server: empty, or back at the last ``snapshot()``."""
        self.kill()
        if not from_snapshot:
            (self.directory / SNAPSHOT).unlink(missing_ok=True)
        self.start()
