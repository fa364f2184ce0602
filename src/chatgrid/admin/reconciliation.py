"""Reconciling an org's own OpenAI key: OpenAI's usage against the ledger, and the alert.

An admin hands over OpenAI's Usage API pages for the key
(``/v1/organization/usage/completions``, daily buckets, as downloaded);
every day and model either side counted is shown with the difference. When
OpenAI counted more requests than ChatGrid made beyond the threshold on any
day, the org's alert channels hear it once per day, model and count
(``key.used_outside``): the key was used outside ChatGrid. Each run is
audited (``reconciliation.run``, with the days and the differences only).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

from chatgrid.alerts import AlertEvent
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest
from chatgrid.governance.reconciliation import (
    Line,
    ledger_usage,
    openai_usage,
    reconcile,
    used_outside,
)
from chatgrid.store.types import utcnow

#: The largest usage document read: a year of daily buckets for hundreds of models.
MAX_USAGE_BYTES = 8 * 1024 * 1024
MAX_THRESHOLD = 1_000_000


def parse_usage_document(raw: bytes) -> object:
    """The uploaded JSON, bounded in size; a clear 400 for anything else."""
    if len(raw) > MAX_USAGE_BYTES:
        raise InvalidRequest(
            f"the usage file is over {MAX_USAGE_BYTES // (1024 * 1024)} MiB", param="usage"
        )
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidRequest("the usage file is not JSON", param="usage") from None


def reconcile_usage(
    ctx: AppContext,
    org_ref: str,
    actor: Actor,
    document: object,
    *,
    api_key_id: str | None = None,
    threshold: int = 0,
) -> dict[str, Any]:
    """OpenAI's counts against the ledger's for the days the pages cover."""
    org = ctx.orgs.get(org_ref)
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise InvalidRequest(f"the threshold is 0 to {MAX_THRESHOLD} requests", param="threshold")
    if api_key_id is not None and (not api_key_id.startswith("key_") or len(api_key_id) > 100):
        raise InvalidRequest("an OpenAI API key id starts with key_", param="api_key_id")
    openai = openai_usage(document, api_key_id)
    since = datetime.combine(openai.first_day, time(), UTC)
    until = datetime.combine(openai.last_day, time(), UTC) + timedelta(days=1)
    calls = ctx.usage.byok_openai_calls(org.id, since=since, until=until)
    lines = reconcile(openai.counts, ledger_usage(calls, openai.per_model))
    outside = used_outside(lines, threshold)
    for line in outside:
        ctx.alerts.enqueue(_outside_event(org.id, line), utcnow())
    summary = {
        "first_day": openai.first_day.isoformat(),
        "last_day": openai.last_day.isoformat(),
        "api_key_id": api_key_id,
        "threshold": threshold,
        "extra_requests": sum(line.difference.requests for line in outside),
        "days_with_outside_use": sorted({line.day.isoformat() for line in outside}),
    }
    ctx.audit.record(org.id, actor, "reconciliation.run", org.id, summary)
    return {
        **summary,
        "org_id": org.id,
        "per_model": openai.per_model,
        "lines": [line.public() for line in lines],
        "used_outside": [line.public() for line in outside],
    }


def _outside_event(org_id: str, line: Line) -> AlertEvent:
    extra = line.difference.requests
    day = line.day.isoformat()
    model = "all models" if line.model == "*" else line.model
    return AlertEvent(
        kind="key.used_outside",
        org_id=org_id,
        dedupe_key=f"key.used_outside:{org_id}:{day}:{line.model}:{line.openai.requests}",
        subject="ChatGrid: your OpenAI key was used outside ChatGrid",
        text=(
            f"On {day} OpenAI counted {line.openai.requests} requests to {model} with your "
            f"organization's key; ChatGrid made {line.chatgrid.requests}. {extra} came from "
            "somewhere else: if nobody in your organization uses the key directly, it may have "
            "leaked. Rotate it in ChatGrid's Key page and revoke the old one at OpenAI."
        ),
        payload=line.public(),
    )
