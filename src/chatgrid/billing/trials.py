"""Where an org stands: on its trial, past it without a plan, or on a plan.

The gateway calls ``trial_state`` on every ``/v1`` decision it caches, so it
is a pure function of three plain values. The rule:

* ``plan_id`` set → ``ON_PLAN`` (the org pays; any trial is over);
* no plan and no ``trial_ends_at`` → ``ON_PLAN`` too: orgs made by the CLI
  never had a trial and are billed on the default plan;
* no plan and ``now < trial_ends_at`` → ``ON_TRIAL`` with the days left
  (rounded up: 2.1 days left reads "3 days");
* no plan and the trial is over → ``TRIAL_ENDED``: read-only until the
  operator assigns a plan (``chatgrid plan assign``) or extends the trial.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

TRIAL_ENDED_MESSAGE = (
    "This organization's free trial has ended, so it is read-only. "
    "Ask an admin of your organization to choose a plan."
)


class TrialState(StrEnum):
    ON_TRIAL = "on_trial"
    TRIAL_ENDED = "trial_ended"
    ON_PLAN = "on_plan"


@dataclass(frozen=True)
class TrialStatus:
    state: TrialState
    ends_at: datetime | None
    days_left: int  # 0 unless on trial

    @property
    def read_only(self) -> bool:
        """True when calls that cost money must be refused."""
        return self.state is TrialState.TRIAL_ENDED

    @property
    def message(self) -> str:
        """What a member is told (also the error message on ``/v1`` when read-only)."""
        if self.state is TrialState.ON_TRIAL:
            unit = "day" if self.days_left == 1 else "days"
            return f"Free trial: {self.days_left} {unit} left."
        if self.state is TrialState.TRIAL_ENDED:
            return TRIAL_ENDED_MESSAGE
        return "On a paid plan."


def trial_state(trial_ends_at: datetime | None, plan_id: str | None, now: datetime) -> TrialStatus:
    """The org's trial standing at ``now`` (aware datetimes)."""
    if plan_id is not None or trial_ends_at is None:
        return TrialStatus(TrialState.ON_PLAN, None, 0)
    if now < trial_ends_at:
        days_left = math.ceil((trial_ends_at - now).total_seconds() / 86_400)
        return TrialStatus(TrialState.ON_TRIAL, trial_ends_at, days_left)
    return TrialStatus(TrialState.TRIAL_ENDED, trial_ends_at, 0)
