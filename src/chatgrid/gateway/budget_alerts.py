"""A budget's thresholds (50, 80, 100 % by default) alert the org's channels, once each.

Checked where a call settles, with the counter's new spend: no extra read.
Each threshold is queued at most once per month per budget (and limit) by
this process, and the delivery queue's unique (channel, dedupe key) index
makes it once overall, however many replicas reach it together. Queueing is
a database write, so it runs in a thread and the call never waits on it.
"""

from __future__ import annotations

import asyncio
import contextlib

from chatgrid.alerts import AlertEvent
from chatgrid.billing.budget_rules import Counter, Watched, thresholds_reached
from chatgrid.context import AppContext
from chatgrid.gateway.key_alerts import queue_alert
from chatgrid.ledger.money import format_dollars


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
        dedupe_key=f"budget.threshold:{watched.key}:{month}:{watched.limit_micros}:{threshold}",
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


class BudgetAlerts:
    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._queued: set[str] = set()  # dedupe keys this process has queued this month
        self._month = ""
        self._tasks: set[asyncio.Task[int]] = set()

    def check(
        self, org_id: str, month: str, counters: tuple[Counter, ...], spent: dict[str, int]
    ) -> None:
        """Queue the alert of every threshold the new spend reached, if not queued yet."""
        if month != self._month:
            self._queued.clear()
            self._month = month
        for counter in counters:
            value = spent.get(counter.scope)
            if value is None:
                continue
            for watched in counter.watched:
                for threshold in thresholds_reached(watched, value):
                    event = threshold_event(org_id, month, watched, threshold, value)
                    if event.dedupe_key in self._queued:
                        continue
                    self._queued.add(event.dedupe_key)
                    self._queue(event)

    def _queue(self, event: AlertEvent) -> None:
        task = asyncio.create_task(asyncio.to_thread(queue_alert, self._context, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Let alerts already being queued finish (a shutdown must not drop them)."""
        if self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.gather(*self._tasks)
