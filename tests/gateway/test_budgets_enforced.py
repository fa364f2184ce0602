"""Budgets on an org, a team and a member, enforced by the real gateway, in process.

Hard budgets refuse a call that could pass them and name which budget and
how much is left; soft ones only alert; on the org's own key (BYOK) spend is
counted at list price. Thresholds queue one alert each, however many calls
reach them. The gateway calls the real simulator over HTTP, on a migrated
database (both backends).
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
from sqlalchemy import func, select

from chatgrid.admin import alerts, budgets, keys, people, teams
from chatgrid.admin.billing import set_member_cap
from chatgrid.alerts import ChannelKind
from chatgrid.audit import Actor
from chatgrid.billing.budget_rules import BudgetScope
from chatgrid.context import AppContext
from chatgrid.errors import QuotaExhausted
from chatgrid.gateway.workspace import WorkspaceGateway
from chatgrid.identity.models import BillingMode, Role
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.tables import alert_deliveries, ledger_entries
from tests.support.processes import RunningProcess
from tests.support.workspace_gateway import run

ADMIN = Actor(None, "admin@example.com")
MODEL = "gpt-4o-mini"  # $0.15 / $0.60 per 1M tokens: a 100-token answer is about 60 µ$


def chat(tokens: int = 100) -> dict[str, Any]:
    return {
        "model": MODEL,
        "max_tokens": tokens,
        "messages": [{"role": "user", "content": f"hi [sim:tokens={tokens}]"}],
    }


def byok_org(context: AppContext, simulator: RunningProcess, *emails: str) -> tuple[str, list[str]]:
    org = people.create_org(context, f"org-{secrets.token_hex(4)}", BillingMode.BYOK)
    ids = [
        people.add_member(context, org.id, email, Role.OWNER if i == 0 else Role.MEMBER).id
        for i, email in enumerate(emails)
    ]
    upstream = UpstreamConfig.create(Provider.OPENAI, base_url=f"{simulator.base_url}/v1")
    asyncio.run(keys.set_credential(context, org.id, upstream, "sk-byok-budgets-0123456789"))
    return org.id, ids


def calls_until_refused(
    context: AppContext, org_id: str, member_id: str, limit: int = 60
) -> tuple[int, QuotaExhausted | None]:
    """Chat until a budget refuses (or ``limit`` calls): how many went, and the refusal."""

    async def scenario(workspace: WorkspaceGateway) -> tuple[int, QuotaExhausted | None]:
        for done in range(limit):
            try:
                async with workspace.chat_stream(org_id, member_id, chat()) as stream:
                    async for _ in stream.deltas():
                        pass
            except QuotaExhausted as refusal:
                return done, refusal
        return limit, None

    result: tuple[int, QuotaExhausted | None] = run(context, scenario)
    return result


def list_cost(context: AppContext, *member_ids: str) -> int:
    query = select(func.coalesce(func.sum(ledger_entries.c.list_cost_micros), 0)).where(
        ledger_entries.c.member_id.in_(member_ids)
    )
    with context.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_a_hard_team_budget_on_byok_refuses_at_list_price_and_names_itself(
    context: AppContext, simulator: RunningProcess
) -> None:
    org_id, (alice, bob) = byok_org(context, simulator, "alice@example.com", "bob@example.com")
    team = teams.create_team(context, org_id, ADMIN, "Research")
    for member_id in (alice, bob):
        teams.add_member(context, org_id, ADMIN, team.id, context.members.get(org_id, member_id))
    budgets.set_budget(context, org_id, ADMIN, BudgetScope.TEAM, "Research", limit_micros=1_000)

    went_alice, _ = calls_until_refused(context, org_id, alice, limit=6)
    went_bob, refusal = calls_until_refused(context, org_id, bob)

    assert refusal is not None, "the team's budget never refused"
    assert refusal.message.startswith("The monthly budget of your team 'Research' has $0.0")
    assert "left of $0.001000, less than this request could cost" in refusal.message
    spent = list_cost(context, alice, bob)
    assert 0 < spent <= 1_000  # not one micro-dollar past the budget, at list price
    assert went_alice + went_bob >= 2
    with context.engine.connect() as conn:  # BYOK: OpenAI bills it, ChatGrid charges nothing
        charged = conn.execute(
            select(func.sum(ledger_entries.c.charged_micros)).where(
                ledger_entries.c.org_id == org_id
            )
        ).scalar_one()
    assert charged == 0
    [view] = budgets.list_budgets(context, org_id)
    assert (view.subject, view.spent_micros, view.budget.enforcement) == ("Research", spent, "hard")


def test_leaving_the_team_leaves_its_budget(context: AppContext, simulator: RunningProcess) -> None:
    org_id, (alice,) = byok_org(context, simulator, "alice@example.com")
    team = teams.create_team(context, org_id, ADMIN, "Tight")
    member = context.members.get(org_id, alice)
    teams.add_member(context, org_id, ADMIN, team.id, member)
    budgets.set_budget(context, org_id, ADMIN, BudgetScope.TEAM, team.id, limit_micros=0)

    assert calls_until_refused(context, org_id, alice, limit=1)[0] == 0
    teams.remove_member(context, org_id, ADMIN, team.id, member)
    assert calls_until_refused(context, org_id, alice, limit=2) == (2, None)


def test_the_tightest_budget_is_the_one_a_refusal_names(
    context: AppContext, simulator: RunningProcess
) -> None:
    org_id, (alice,) = byok_org(context, simulator, "alice@example.com")
    budgets.set_budget(context, org_id, ADMIN, BudgetScope.ORG, None, limit_micros=5_000_000)
    set_member_cap(context, org_id, "alice@example.com", 300, actor=ADMIN)

    went, refusal = calls_until_refused(context, org_id, alice)

    assert refusal is not None and went >= 1
    assert refusal.message.startswith("Your own monthly spending cap, set by an admin, has $0.0")
    assert "left of $0.000300" in refusal.message
    assert list_cost(context, alice) <= 300


def test_a_soft_budget_never_refuses_and_each_threshold_alerts_once(
    context: AppContext, simulator: RunningProcess
) -> None:
    org_id, (alice,) = byok_org(context, simulator, "alice@example.com")
    alerts.add_channel(context, org_id, ADMIN, ChannelKind.EMAIL, "finance@example.com")
    budgets.set_budget(
        context,
        org_id,
        ADMIN,
        BudgetScope.ORG,
        None,
        limit_micros=200,
        hard=False,
        thresholds="50,100",
    )

    went, refusal = calls_until_refused(context, org_id, alice, limit=8)

    assert (went, refusal) == (8, None)  # soft: spend passed the limit, nothing refused
    assert list_cost(context, alice) > 200
    with context.engine.connect() as conn:
        queued = conn.execute(
            select(alert_deliveries.c.dedupe_key, alert_deliveries.c.event_kind).where(
                alert_deliveries.c.org_id == org_id
            )
        ).all()
    keys_queued = sorted(key for key, kind in queued if kind == "budget.threshold")
    assert len(keys_queued) == 2 and len(set(keys_queued)) == 2
    assert keys_queued[0].endswith(":100") and keys_queued[1].endswith(":50")
    [delivery] = [
        d for d in context.alerts.deliveries(org_id) if d.event.dedupe_key.endswith(":100")
    ]
    assert "the organization's monthly budget has reached 100%" in delivery.event.subject
    assert delivery.event.payload["enforcement"] == "soft"
    assert delivery.event.payload["limit_usd"] == "0.000200"


def test_a_shared_credit_team_budget_counts_the_charge_with_markup(
    context: AppContext, simulator: RunningProcess
) -> None:
    upstream = UpstreamConfig.create(Provider.OPENAI, base_url=f"{simulator.base_url}/v1")
    asyncio.run(keys.add_pool_key(context, "pool", upstream, "sk-pool-budgets-0123456789"))
    org = people.create_org(context, f"org-{secrets.token_hex(4)}", BillingMode.SHARED)
    alice = people.add_member(context, org.id, "alice@example.com", Role.OWNER)
    team = teams.create_team(context, org.id, ADMIN, "Ops")
    teams.add_member(context, org.id, ADMIN, team.id, alice)
    budgets.set_budget(context, org.id, ADMIN, BudgetScope.TEAM, "Ops", limit_micros=800)

    went, refusal = calls_until_refused(context, org.id, alice.id)

    assert refusal is not None and went >= 1
    assert "your team 'Ops'" in refusal.message
    with context.engine.connect() as conn:
        charged, listed = conn.execute(
            select(
                func.sum(ledger_entries.c.charged_micros),
                func.sum(ledger_entries.c.list_cost_micros),
            ).where(ledger_entries.c.org_id == org.id)
        ).one()
    assert charged > listed  # the markup is in what the team budget counts
    assert charged <= 800


@pytest.mark.parametrize(
    ("scope", "subject"), [(BudgetScope.TEAM, "no-such-team"), (BudgetScope.MEMBER, "x@y.z")]
)
def test_a_budget_on_someone_not_here_is_refused(
    context: AppContext, simulator: RunningProcess, scope: BudgetScope, subject: str
) -> None:
    from chatgrid.errors import NotFound

    org_id, _ = byok_org(context, simulator, "alice@example.com")
    with pytest.raises(NotFound):
        budgets.set_budget(context, org_id, ADMIN, scope, subject, limit_micros=1)
    assert context.budgets.list(org_id) == []


def test_a_pooled_key_out_of_its_minute_budget_alerts_the_operator_once(
    context: AppContext, simulator: RunningProcess
) -> None:
    upstream = UpstreamConfig.create(Provider.OPENAI, base_url=f"{simulator.base_url}/v1")
    asyncio.run(
        keys.add_pool_key(context, "tight", upstream, "sk-pool-tight-0123456789", rpm_limit=1)
    )
    alerts.add_channel(context, None, ADMIN, ChannelKind.EMAIL, "ops@example.com")
    org = people.create_org(context, f"org-{secrets.token_hex(4)}", BillingMode.SHARED)
    alice = people.add_member(context, org.id, "alice@example.com", Role.OWNER)

    async def scenario(workspace: WorkspaceGateway) -> list[str]:
        outcomes = []
        for _ in range(3):
            try:
                async with workspace.chat_stream(org.id, alice.id, chat(5)) as stream:
                    async for _ in stream.deltas():
                        pass
                outcomes.append("ok")
            except Exception as refusal:
                outcomes.append(type(refusal).__name__)
        return outcomes

    assert run(context, scenario) == ["ok", "RateLimited", "RateLimited"]
    [delivery] = [d for d in context.alerts.deliveries(None) if d.event.kind.startswith("pool")]
    assert delivery.event.kind == "pool_key.budget_exhausted"
    assert "used its budget of 1 requests a minute" in delivery.event.subject
    assert "sk-pool-tight" not in delivery.event.text + str(delivery.event.payload)
