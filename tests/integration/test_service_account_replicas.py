"""A service account's token on 2 `chatgrid serve` replicas over PostgreSQL + Redis: when the
rotation or revocation returns, both replicas refuse the old token (they share no files)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatgrid.admin import people
from chatgrid.admin import service_accounts as sa
from chatgrid.audit import Actor
from chatgrid.identity.models import BillingMode
from tests.support.cluster import CHAT, Cluster, running_cluster
from tests.support.processes import RunningProcess

pytestmark = pytest.mark.postgresql_only


@pytest.fixture
def cluster(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[Cluster]:
    with running_cluster(tmp_path, postgres_database, simulator, count=2) as running:
        yield running


def statuses(cluster: Cluster, token: str) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    return [
        httpx.post(
            f"{r.base_url}/v1/chat/completions", json=CHAT, headers=headers, timeout=30
        ).status_code
        for r in cluster.replicas
    ]


def test_rotation_and_revocation_are_in_force_on_every_replica_when_they_return(
    cluster: Cluster,
) -> None:
    ctx = cluster.context
    org = people.create_org(ctx, f"sa-{secrets.token_hex(3)}", BillingMode.BYOK)
    cluster.connect_simulator(org.id, f"sk-sa-{secrets.token_hex(8)}")
    account, first = sa.create_service_account(ctx, org, Actor.cli(), "replicated", "v1")
    assert statuses(cluster, first) == [200, 200]  # each replica has it cached now

    _, second = sa.rotate_service_account(ctx, org, Actor.cli(), account.id)
    assert statuses(cluster, first) == [401, 401]
    assert statuses(cluster, second) == [200, 200]

    sa.revoke_service_account(ctx, org, Actor.cli(), account.id)
    assert statuses(cluster, second) == [401, 401]
