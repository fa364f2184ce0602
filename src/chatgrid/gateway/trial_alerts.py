"""A trial ending in 3 days alerts the org's channels (``docs/alerts.md``), once per trial end.

Found by a scan, not by a call: a trial ends whether or not anyone calls.
Each process's delivery worker scans every ``SCAN_EVERY``; every replica may
find the same org, and the queue's dedupe key (the org and the trial's end)
makes it one alert. Extending a trial moves its end, so the new end alerts
again three days before it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chatgrid.alerts import AlertEvent
from chatgrid.context import AppContext
from chatgrid.gateway.key_alerts import queue_alert
from chatgrid.identity.models import Org

NOTICE = timedelta(days=3)
SCAN_EVERY = timedelta(minutes=10)


def trial_ending_event(org: Org, now: datetime) -> AlertEvent:
    assert org.trial_ends_at is not None
    ends = org.trial_ends_at
    hours = max(0, int((ends - now).total_seconds() // 3600))
    left = f"{hours // 24} days and {hours % 24} hours" if hours >= 24 else f"{hours} hours"
    return AlertEvent(
        kind="trial.ending",
        org_id=org.id,
        dedupe_key=f"trial.ending:{org.id}:{ends.isoformat()}",
        subject=f"ChatGrid: the free trial of {org.name} ends in {left}",
        text=(
            f"The free trial of {org.name} ends on {ends:%Y-%m-%d %H:%M} UTC ({left} from now). "
            "After that the organization is read-only until it is on a plan."
        ),
        payload={"trial_ends_at": ends.isoformat(), "org_name": org.name},
    )


def queue_trial_endings(ctx: AppContext, now: datetime) -> int:
    """Queue the alert of every trial ending within ``NOTICE``; how many deliveries were new."""
    queued = 0
    for org in ctx.orgs.trials_ending(now, now + NOTICE):
        queued += queue_alert(ctx, trial_ending_event(org, now))
    return queued
