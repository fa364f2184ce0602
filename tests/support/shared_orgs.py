"""A shared-credit org with its own pooled key on the simulator, and an SDK client for it.

For the endpoint tests that run the same call on BYOK and shared credits.
"""

from __future__ import annotations

import asyncio
import secrets

import openai
from sqlalchemy import update

from chatgrid.admin import keys, people
from chatgrid.identity.models import BillingMode, Role
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.ids import new_id
from chatgrid.store.tables import orgs as org_rows
from chatgrid.store.tables import plans
from chatgrid.store.types import utcnow
from tests.support.deployment import Deployment, OrgHandle


def client(deployment: Deployment, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=deployment.v1, api_key=token, max_retries=0)


def shared_org(deployment: Deployment, allowance_micros: int | None = None) -> OrgHandle:
    """A shared-credit org on a pooled key; with a monthly allowance and no overage if given."""
    ctx = deployment.context
    org = people.create_org(ctx, f"shared-{secrets.token_hex(3)}", BillingMode.SHARED)
    if allowance_micros is not None:
        plan_id = new_id("plan")
        with ctx.engine.begin() as conn:
            conn.execute(
                plans.insert().values(
                    id=plan_id,
                    name=f"tight-{plan_id}",
                    seat_price_micros=0,
                    markup_bps=0,
                    allowance_micros_per_seat=allowance_micros,
                    overage=False,
                    is_default=False,
                    created_at=utcnow(),
                )
            )
            conn.execute(update(org_rows).where(org_rows.c.id == org.id).values(plan_id=plan_id))
    email = f"bob-{secrets.token_hex(3)}@example.com"
    member = people.add_member(ctx, org.id, email, Role.OWNER)
    _, token = people.create_token(ctx, org.id, email)
    config = UpstreamConfig.create(Provider.OPENAI, base_url=f"{deployment.simulator.base_url}/v1")
    key = f"sk-pool-{secrets.token_hex(6)}-responses"
    asyncio.run(keys.add_pool_key(ctx, f"pool-{org.id}", config, key))
    return OrgHandle(org.id, org.name, token, member.id, None)
