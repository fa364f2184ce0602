"""An org whose trial ended without a plan is read-only on /v1; a plan lifts it."""

from __future__ import annotations

from datetime import timedelta

import openai
import pytest
from sqlalchemy import update

from chatgrid.store.tables import orgs
from chatgrid.store.types import utcnow
from tests.support.deployment import Deployment

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def set_org(deployment: Deployment, org_id: str, **values: object) -> None:
    with deployment.context.engine.begin() as conn:
        conn.execute(update(orgs).where(orgs.c.id == org_id).values(**values))
    deployment.context.changes.bump()


def test_calls_stop_when_the_trial_ends_and_resume_on_a_plan(deployment: Deployment) -> None:
    org = deployment.new_org()
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    set_org(deployment, org.id, trial_ends_at=utcnow() + timedelta(days=3))
    client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    set_org(deployment, org.id, trial_ends_at=utcnow() - timedelta(minutes=1))
    with pytest.raises(openai.PermissionDeniedError, match="trial has ended") as caught:
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    assert caught.value.code == "trial_ended"
    set_org(deployment, org.id, plan_id="plan_standard")
    client.chat.completions.create(**CHAT)  # type: ignore[call-overload]


def test_a_suspended_org_is_refused_at_once(deployment: Deployment) -> None:
    org = deployment.new_org()
    client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    set_org(deployment, org.id, status="suspended")
    with pytest.raises(openai.PermissionDeniedError, match="suspended"):
        client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
    set_org(deployment, org.id, status="active")
    client.chat.completions.create(**CHAT)  # type: ignore[call-overload]
