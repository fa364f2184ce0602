"""Redis key names, all under one prefix so several instances can share a server."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SyncKeys:
    prefix: str

    @property
    def state(self) -> str:
        """A hash: generation, the server's run_id, when the generation began, the epoch."""
        return f"{self.prefix}:sync:state"

    @property
    def channel(self) -> str:
        return f"{self.prefix}:sync:changes"

    def replica(self, replica_id: str) -> str:
        """A live replica's heartbeat; its value is the last change state it has applied."""
        return f"{self.prefix}:sync:replica:{replica_id}"

    @property
    def replica_pattern(self) -> str:
        return f"{self.prefix}:sync:replica:*"
