"""One replica does each scheduled model-list round, with Redis or without it."""

from __future__ import annotations

import secrets

import pytest
from pydantic import ValidationError

from chatgrid.context import AppContext
from chatgrid.gateway.model_refresh import ScheduledRefresh
from chatgrid.redis_client import sync_redis
from chatgrid.settings import Settings
from tests.support.deployment import REDIS_URL

#: A fixed instant (seconds since the epoch): the claim compares times, never reads the clock.
NOON = 1_796_212_800.0


def schedule(context: AppContext, interval: float) -> ScheduledRefresh:
    context.settings.model_refresh_seconds = interval
    # Never started: claim_round is all these tests need, and it makes no upstream call.
    return ScheduledRefresh(context, session=None)  # type: ignore[arg-type]


def test_workers_sharing_a_data_dir_do_each_round_once(context: AppContext) -> None:
    first, second = schedule(context, 600), schedule(context, 600)
    assert first.claim_round(NOON) is True
    assert second.claim_round(NOON + 1) is False
    assert first.claim_round(NOON + 300) is False
    assert second.claim_round(NOON + 600) is True


def test_replicas_sharing_redis_do_each_round_once(context: AppContext) -> None:
    context.settings.redis_url = REDIS_URL
    context.settings.redis_prefix = f"test-{secrets.token_hex(6)}"
    first, second = schedule(context, 600), schedule(context, 600)
    try:
        assert first.claim_round() is True
        assert second.claim_round() is False
    finally:
        sync_redis(REDIS_URL).delete(f"{context.settings.redis_prefix}:model-refresh:round")


def test_a_zero_interval_starts_no_refresh(context: AppContext) -> None:
    refresh = schedule(context, 0)
    refresh.start()  # no running loop needed: nothing is scheduled
    assert refresh._task is None


def test_a_negative_interval_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(model_refresh_seconds=-1)
