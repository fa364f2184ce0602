"""One member cannot queue uploads faster than the per-member limit, on one replica or two."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatgrid.context import AppContext
from chatgrid.identity.models import Role
from chatgrid.store.migrate import upgrade_to_head
from tests.support.deployment import (
    REDIS_URL,
    DatabaseFactory,
    Deployment,
    make_settings,
    settings_env,
)
from tests.support.processes import ChatGridInstance, RunningProcess, instance_env
from tests.support.workspace import Member, add_person, sign_in

PER_MINUTE = 3

pytestmark = pytest.mark.child_processes


@pytest.fixture(scope="module")
def limited(
    tmp_path_factory: pytest.TempPathFactory,
    new_database: DatabaseFactory,
    simulator: RunningProcess,
) -> Iterator[tuple[Deployment, ChatGridInstance]]:
    """Two replicas sharing a database and Redis, each allowing 3 uploads per member per minute."""
    tmp_path = tmp_path_factory.mktemp("upload-limit")
    database_url = new_database()
    prefix = f"test-uploads-{secrets.token_hex(4)}"
    settings = make_settings(tmp_path / "data-1", database_url).model_copy(
        update={"redis_url": REDIS_URL, "redis_prefix": prefix}
    )
    context = AppContext.open(settings)
    upgrade_to_head(context.engine)
    context.prices.seed_defaults()
    replicas = []
    for n in (1, 2):
        # On SQLite replicas share the data dir (and so the database); on PostgreSQL not.
        data_dir = tmp_path / f"data-{n if database_url else 1}"
        data_dir.mkdir(parents=True, exist_ok=True)
        env = instance_env(settings_env(data_dir, database_url))
        env.update(
            CHATGRID_REDIS_URL=REDIS_URL,
            CHATGRID_REDIS_PREFIX=prefix,
            CHATGRID_UPLOADS_PER_MEMBER_PER_MINUTE=str(PER_MINUTE),
            CHATGRID_INGEST_WORKERS="0",  # the queue is not what is tested here
        )
        replicas.append(ChatGridInstance(env=env, data_dir=data_dir))
    for replica in replicas:
        replica.start()
    try:
        yield Deployment(replicas[0], context, simulator), replicas[1]
    finally:
        for replica in replicas:
            replica.stop()
        context.close()


def upload(member: Member, collection_id: str, n: int) -> tuple[int, dict[str, str], str]:
    response = member.api(
        "POST",
        f"/api/orgs/{member.org_id}/collections/{collection_id}/documents",
        files={"file": (f"note-{n}.md", f"# Note {n}\n\nText.".encode(), "text/markdown")},
    )
    return response.status_code, dict(response.headers), response.text


def private_collection(member: Member) -> str:
    response = member.api(
        "POST", f"/api/orgs/{member.org_id}/collections", json={"name": "Mine", "scope": "private"}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_member_past_the_upload_limit_gets_429_with_retry_after_on_every_replica(
    limited: tuple[Deployment, ChatGridInstance],
) -> None:
    deployment, second = limited
    org = deployment.new_org()
    alice = add_person(deployment, org.id, Role.MEMBER)
    mine = private_collection(alice)

    statuses = [upload(alice, mine, n)[0] for n in range(PER_MINUTE)]
    assert statuses == [202] * PER_MINUTE

    status, headers, body = upload(alice, mine, PER_MINUTE)
    assert status == 429
    assert 1 <= int(headers["retry-after"]) <= 60
    assert "uploaded 3 documents in the last minute" in body
    assert "upload_rate_limited" in body

    # The other replica counts the same uploads (Redis), so it refuses too.
    on_second = Deployment(second, deployment.context, deployment.simulator)
    alice_there = sign_in(on_second, org.id, alice.email)
    assert upload(alice_there, mine, 99)[0] == 429

    # Refused uploads left nothing behind; a teammate has a count of their own.
    assert len(deployment.context.documents.documents(org.id, mine)) == PER_MINUTE
    bob = add_person(deployment, org.id, Role.MEMBER)
    assert upload(bob, private_collection(bob), 0)[0] == 202


def test_settings_of_the_limit_are_read_from_the_environment(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, None)
    assert settings.uploads_per_member_per_minute == 30
    assert settings.extraction_max_memory_mb == 1024
