"""SCIM deprovisioning on 3 `chatgrid serve` replicas over PostgreSQL + Redis.

The identity provider's DELETE goes to one replica; when it has answered,
the person's API token is refused by every other replica at once (they share
no files: only Redis tells them). The SCIM token is then searched for in
every replica's log, every answer and the database (the canary search).
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import select

from chatgrid.admin import people, scim
from chatgrid.audit import Actor
from chatgrid.identity.models import BillingMode
from chatgrid.identity.scim import USER_SCHEMA
from chatgrid.store.tables import audit_log, scim_tokens
from tests.support.canary import assert_found_nowhere
from tests.support.cluster import CHAT, Cluster
from tests.support.sso import new_domain, verified_domain

pytestmark = pytest.mark.postgresql_only


def test_after_the_scim_delete_returns_every_replica_refuses_the_token(cluster: Cluster) -> None:
    ctx = cluster.context
    org = people.create_org(ctx, f"scim-{secrets.token_hex(3)}", BillingMode.BYOK)
    cluster.connect_simulator(org.id, f"sk-scim-{secrets.token_hex(8)}")
    domain = new_domain("leaver")
    verified_domain(ctx, org.id, domain)
    _, scim_secret = scim.create_token(ctx, org, Actor.cli())
    idp = {"Authorization": f"Bearer {scim_secret}", "Content-Type": "application/scim+json"}
    first, *others = cluster.replicas
    said: list[str] = []

    email = f"leaver@{domain}"
    body = {"schemas": [USER_SCHEMA], "userName": email, "externalId": "00u-leaver", "active": True}
    created = httpx.post(f"{first.base_url}/scim/v2/Users", json=body, headers=idp, timeout=30)
    said.append(created.text)
    assert created.status_code == 201, created.text
    member_id = created.json()["id"]
    _, api_token = people.create_token(ctx, org.id, email)
    caller = {"Authorization": f"Bearer {api_token}"}
    for replica in cluster.replicas:  # every replica knows (and caches) the token
        reply = httpx.post(f"{replica.base_url}/v1/chat/completions", json=CHAT, headers=caller)
        assert reply.status_code == 200, reply.text

    deleted = httpx.delete(f"{first.base_url}/scim/v2/Users/{member_id}", headers=idp, timeout=30)
    assert deleted.status_code == 204, deleted.text

    def call(index: int) -> int:
        replica = others[index % len(others)]
        return httpx.post(
            f"{replica.base_url}/v1/chat/completions", json=CHAT, headers=caller, timeout=30
        ).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(call, range(100)))
    assert statuses == [401] * 100
    listed = httpx.get(
        f"{others[0].base_url}/scim/v2/Users",
        params={"filter": f'userName eq "{email}"'},
        headers=idp,
        timeout=30,
    )
    said.append(listed.text)
    assert [r["active"] for r in listed.json()["Resources"]] == [False]
    assert ctx.members.get(org.id, member_id).status == "removed"

    for replica in cluster.replicas:
        replica.stop()
    with ctx.engine.connect() as conn:
        rows = [*conn.execute(select(scim_tokens)), *conn.execute(select(audit_log))]
    haystacks = {
        "what ChatGrid said": "\n".join(said).encode(),
        "database": "\n".join(repr(tuple(row)) for row in rows).encode(),
    }
    for n, replica in enumerate(cluster.replicas):
        assert replica.server is not None
        haystacks[f"replica {n}'s log"] = replica.server.log_text().encode()
    assert_found_nowhere(haystacks, {"SCIM token": scim_secret.encode()})
