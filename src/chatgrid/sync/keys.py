"""Redis key names, all under one prefix so several instances can share a server."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SyncKeys:
    prefix: str

    @property
    def epoch(self) -> str:
        return f"{self.prefix}:sync:epoch"

    @property
    def channel(self) -> str:
        return f"{self.prefix}:sync:changes"

    def replica(self, replica_id: str) -> str:
        return f"{self.prefix}:sync:replica:{replica_id}"

    @property
    def replica_pattern(self) -> str:
        return f"{self.prefix}:sync:replica:*"

    def acks(self, epoch: int) -> str:
        return f"{self.prefix}:sync:ack:{epoch}"
