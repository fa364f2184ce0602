"""A tenant with a history for the console's browser checks (axe, layout): an org with
members, an invitation, a week of calls, an issued invoice and two domains, its owner,
and an operator; plus a signed-in session for any of them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, StorageState, ViewportSize
from sqlalchemy import update

from chatgrid.admin import accounts, alerts, billing, domains, members, people
from chatgrid.alerts import ChannelKind
from chatgrid.audit import Actor
from chatgrid.billing.plans import DEFAULT_PLAN_ID
from chatgrid.billing.seats import Month
from chatgrid.identity.models import BillingMode, Role
from chatgrid.identity.passwords import hash_password
from chatgrid.store.tables import orgs, seat_periods
from tests.support.deployment import Deployment
from tests.support.usage_rows import entry, write

PASSWORD = "correct horse battery staple"
VIEWPORT: ViewportSize = {"width": 1280, "height": 860}


@dataclass
class Tenant:
    """An org with a history, its owner, and an operator who can look at it."""

    org_id: str
    org_name: str
    owner_email: str
    operator_email: str
    period: str
    teammate_id: str  # a plain member, whose erase page is checked but never used


def seed_tenant(deployment: Deployment) -> Tenant:
    """A shared-credit org on the default plan since before last month: a teammate,
    a pending invitation, a week of calls for the charts and last month's invoice."""
    ctx = deployment.context
    org = deployment.new_org(BillingMode.SHARED)
    owner = ctx.members.get(org.id, org.member_id)
    ctx.accounts.set_password(owner.user_id, hash_password(PASSWORD))
    teammate = people.add_member(
        ctx, org.id, f"bob-{secrets.token_hex(3)}@example.com", Role.MEMBER
    )
    members.invite(
        ctx,
        ctx.orgs.get(org.id),
        owner,
        Actor(owner.user_id, owner.email),
        email=f"carol-{secrets.token_hex(3)}@example.com",
        role=Role.ADMIN,
        link_base=deployment.instance.base_url,
        mailer=None,
    )

    last_month = Month.of(Month.of(datetime.now(UTC)).start - timedelta(days=1))
    with ctx.engine.begin() as conn:
        conn.execute(
            update(orgs)
            .where(orgs.c.id == org.id)
            .values(plan_id=DEFAULT_PLAN_ID, trial_ends_at=None)
        )
        conn.execute(
            update(seat_periods)
            .where(seat_periods.c.org_id == org.id)
            .values(started_at=last_month.start - timedelta(days=3))
        )
    today = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    calls = [
        entry(org.id, who, when, model=model, tokens=tokens, mode="shared", charged=sum(tokens) * 4)
        for when, who, model, tokens in [
            (today, owner.id, "gpt-4o-mini", (1200, 300)),
            (today - timedelta(days=1), teammate.id, "gpt-4o", (800, 400)),
            (today - timedelta(days=3), owner.id, "gpt-4o", (2000, 900)),
            (last_month.start + timedelta(days=2), teammate.id, "gpt-4o-mini", (500, 100)),
        ]
    ]
    write(ctx, calls)
    invoice = billing.issue_invoice(ctx, org.id, str(last_month), actor=Actor.cli())
    for name in ("tenant.example", "bücher.example"):  # one pending, one verified below
        claim = domains.add_domain(ctx, org.id, Actor.cli(), name)
    ctx.domains.mark_verified(org.id, claim.id)
    for kind, target in [
        (ChannelKind.WEBHOOK, "http://127.0.0.1:9/hooks/chatgrid"),  # nothing listens: retried
        (ChannelKind.EMAIL, "alerts-with-a-rather-long-address@tenant.example"),
    ]:
        alerts.add_channel(ctx, org.id, Actor.cli(), kind, target)
    alerts.send_test(ctx, org.id, Actor.cli())

    operator_email = f"ops-{secrets.token_hex(3)}@example.com"
    accounts.create_operator(ctx, operator_email, PASSWORD)
    return Tenant(org.id, org.name, owner.email, operator_email, invoice.period, teammate.id)


def signed_in(
    browser: Browser, base: str, email: str, viewport: ViewportSize = VIEWPORT
) -> StorageState:
    """A session's cookies, so each page's check starts from a fresh, signed-in context."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Continue").click()  # the email step comes first
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    state = context.storage_state()
    context.close()
    return state
