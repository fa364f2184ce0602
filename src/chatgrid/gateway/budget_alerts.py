"""A budget's thresholds (50, 80, 100 % by default) alert the org's channels, once each.

Checked where a call settles, with the counter's new spend: no extra read.
The dedupe key names the budget, its limit, the month and the threshold, so
``AlertQueue`` writes it once per process and the delivery queue once
overall, however many replicas reach it together.
"""

from __future__ import annotations

from functools import partial

from chatgrid.alerts import AlertEvent
from chatgrid.billing.budget_rules import Counter, Watched, thresholds_reached
from chatgrid.gateway.alert_queue import AlertQueue
from chatgrid.ledger.money import format_dollars


def threshold_key(watched: Watched, month: str, threshold: int) -> str:
    return f"budget.threshold:{watched.key}:{month}:{watched.limit_micros}:{threshold}"


def threshold_event(
    org_id: str, month: str, watched: Watched, threshold: int, spent_micros: int
) -> AlertEvent:
    """The alert for one budget reaching one threshold in one month."""
    label = watched.admin_label
    effect = (
        "Calls that could pass it are refused."
        if watched.hard
        else "It is a soft budget: calls are not stopped."
    )
    spent, limit = format_dollars(spent_micros), format_dollars(watched.limit_micros)
    return AlertEvent(
        kind="budget.threshold",
        org_id=org_id,
        dedupe_key=threshold_key(watched, month, threshold),
        subject=f"ChatGrid: {label} has reached {threshold}% for {month}",
        text=(
            f"{label[:1].upper()}{label[1:]} has spent ${spent} of its ${limit} for {month} "
            f"({threshold}% threshold reached). {effect}"
        ),
        payload={
            "budget": watched.key,
            "budget_label": label,
            "month": month,
            "threshold_percent": threshold,
            "spent_usd": spent,
            "limit_usd": limit,
            "enforcement": "hard" if watched.hard else "soft",
        },
    )


def check_thresholds(
    queue: AlertQueue,
    org_id: str,
    month: str,
    counters: tuple[Counter, ...],
    spent: dict[str, int],
) -> None:
    """Queue the alert of every threshold the new spend reached (each once)."""
    for counter in counters:
        value = spent.get(counter.scope)
        if value is None:
            continue
        for watched in counter.watched:
            for threshold in thresholds_reached(watched, value):
                queue.queue_once(
                    threshold_key(watched, month, threshold),
                    partial(threshold_event, org_id, month, watched, threshold, value),
                )
