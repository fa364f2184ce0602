"""Small helpers shared by the integration tests."""

from __future__ import annotations

from typing import Any

from tests.support.deployment import Deployment


def ledger(deployment: Deployment, org_id: str) -> list[dict[str, Any]]:
    return deployment.context.usage.entries(org_id)


def records_by_id(deployment: Deployment) -> dict[str, dict[str, Any]]:
    return {str(r["id"]): r for r in deployment.simulator_records()}


def assert_ledger_matches_upstream(deployment: Deployment, org_id: str) -> list[dict[str, Any]]:
    """Every ledger entry of the org carries exactly the tokens the simulator reported."""
    records = records_by_id(deployment)
    entries = ledger(deployment, org_id)
    assert entries, "no ledger entries"
    for entry in entries:
        record = records[entry["upstream_request_id"]]
        usage = record["usage"]
        if entry["usage_estimated"]:
            assert entry["completion_tokens"] == record["completion_tokens_sent"]
            assert entry["prompt_tokens"] >= usage["prompt_tokens"]
        else:
            assert entry["prompt_tokens"] == usage["prompt_tokens"], entry
            assert entry["completion_tokens"] == usage["completion_tokens"], entry
            assert entry["cached_tokens"] == usage["cached_tokens"], entry
    return entries
