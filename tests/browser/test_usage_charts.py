"""Usage charts and the operator console in a real browser (and their screenshots)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page

from chatgrid.admin import accounts, people
from chatgrid.identity.models import BillingMode, Role
from chatgrid.identity.passwords import hash_password
from tests.support.browser import screenshot
from tests.support.deployment import Deployment
from tests.support.usage_rows import entry, write

PASSWORD = "correct horse battery staple"


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Continue").click()  # the email step comes first
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_the_admin_sees_usage_charts_and_the_operator_sees_margin(
    page: Page, deployment: Deployment
) -> None:
    ctx, base = deployment.context, deployment.instance.base_url
    # Shared credits: no key to validate (that would need an event loop, and Playwright's
    # sync API already runs one in this thread).
    org = deployment.new_org(BillingMode.SHARED)
    owner = ctx.members.get(org.id, org.member_id)
    ctx.accounts.set_password(owner.user_id, hash_password(PASSWORD))
    teammate = people.add_member(
        ctx, org.id, f"bob-{secrets.token_hex(3)}@example.com", Role.MEMBER
    )
    today = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    calls = []
    for days_ago, who, model, tokens in [
        (0, owner.id, "gpt-4o-mini", (1200, 300)),
        (1, teammate.id, "gpt-4o", (800, 400)),
        (3, owner.id, "gpt-4o", (2000, 900)),
        (3, teammate.id, "gpt-4o-mini", (500, 100)),
        (6, owner.id, "text-embedding-3-small", (3000, 0)),
    ]:
        calls.append(
            entry(
                org.id,
                who,
                today - timedelta(days=days_ago),
                model=model,
                tokens=tokens,
                mode="shared",
                list_cost=sum(tokens) * 3,
                charged=sum(tokens) * 4,
            )
        )
    write(ctx, calls)

    sign_in(page, base, owner.email)
    page.goto(f"{base}/orgs/{org.id}/usage")
    charts = page.locator("svg.chart")
    assert charts.count() == 3
    for chart in charts.all():
        assert chart.is_visible()
    day, member, model = charts.all()
    assert day.locator("rect.bar").count() == 30  # the last 30 days
    assert member.locator("rect.bar").count() == 2
    assert model.locator("rect.bar").count() == 3
    assert "Charged (shared credits)" in page.content()
    assert "$0.0368" in page.content()  # 9,200 tokens × 4 micro-dollars charged
    screenshot(page, "usage")

    operator_email = f"ops-{secrets.token_hex(3)}@example.com"
    accounts.create_operator(ctx, operator_email, PASSWORD)
    page.context.clear_cookies()
    sign_in(page, base, operator_email)
    page.goto(f"{base}/operator")
    assert page.get_by_role("heading", name="Operator console").is_visible()
    assert page.get_by_role("row").filter(has_text=org.name).count() == 1
    screenshot(page, "operator")
