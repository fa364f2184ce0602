"""Everything the simulator remembers between requests, owned by one app instance.

Tests start several simulators side by side (one per fixture), so nothing
lives at module level: each ``SimulatorApp`` has its own ``SimulatorState``.
"""

from __future__ import annotations

from chatgrid.simulator.anthropic_usage import PromptCache
from chatgrid.simulator.azure import Deployments
from chatgrid.simulator.faults import FaultQueue
from chatgrid.simulator.key_models import KeyModels
from chatgrid.simulator.records import MAX_RECORDS, RequestLog
from chatgrid.simulator.responses import ResponseStore


class SimulatorState:
    def __init__(self, max_records: int = MAX_RECORDS) -> None:
        self.records = RequestLog(max_records)
        self.faults = FaultQueue()
        self.revoked_keys: set[str] = set()
        self.deployments = Deployments()
        self.key_models = KeyModels()
        self.responses = ResponseStore()
        #: Azure's own: a response made on Azure is not found on OpenAI, nor the other way.
        self.azure_responses = ResponseStore()
        self.prompt_cache = PromptCache()

    def reset(self) -> None:
        """Back to a fresh simulator: no records, faults, revocations or deployments."""
        self.records.clear()
        self.faults.clear()
        self.revoked_keys.clear()
        self.deployments.clear()
        self.key_models.clear()
        self.responses.clear()
        self.azure_responses.clear()
        self.prompt_cache.clear()
