"""The teams page in a real browser: an owner makes a team and fills it with the mouse;
axe finds nothing serious for the owner or a member; it fits a phone (390 px wide)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, StorageState, ViewportSize, expect

from chatgrid.admin import people, teams
from chatgrid.audit import Actor
from chatgrid.identity.models import Role
from chatgrid.identity.passwords import hash_password
from tests.support.axe import describe, run_axe, serious
from tests.support.console_tenant import PASSWORD, VIEWPORT, Tenant, seed_tenant, signed_in
from tests.support.deployment import Deployment

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def tenant(deployment: Deployment) -> Tenant:
    return seed_tenant(deployment)


@pytest.fixture(scope="module")
def member_email(deployment: Deployment, tenant: Tenant) -> str:
    """A member who can sign in, in two teams (the owner in one); a third team is empty."""
    found, ctx = tenant, deployment.context
    member = people.add_member(
        ctx, found.org_id, f"tia-{secrets.token_hex(3)}@example.com", Role.MEMBER
    )
    ctx.accounts.set_password(member.user_id, hash_password(PASSWORD))
    owner = ctx.members.find_by_email(found.org_id, found.owner_email)
    for name in ("Platform engineering", "Customer success"):
        team = teams.create_team(ctx, found.org_id, Actor.cli(), name)
        teams.add_member(ctx, found.org_id, Actor.cli(), team.id, member)
    teams.add_member(ctx, found.org_id, Actor.cli(), team.id, owner)
    teams.create_team(ctx, found.org_id, Actor.cli(), "Nobody's team")
    return member.email


@pytest.fixture(scope="module")
def sessions(
    browser: Browser, deployment: Deployment, tenant: Tenant, member_email: str
) -> dict[str, StorageState]:
    base = deployment.instance.base_url
    return {
        "owner": signed_in(browser, base, tenant.owner_email),
        "member": signed_in(browser, base, member_email),
    }


@pytest.fixture
def open_as(
    browser: Browser, deployment: Deployment, tenant: Tenant, sessions: dict[str, StorageState]
) -> Iterator[Callable[..., Page]]:
    contexts: list[BrowserContext] = []

    def open_page(who: str, viewport: ViewportSize = VIEWPORT) -> Page:
        context = browser.new_context(viewport=viewport, storage_state=sessions[who])
        contexts.append(context)
        page = context.new_page()
        response = page.goto(f"{deployment.instance.base_url}/orgs/{tenant.org_id}/teams")
        assert response is not None and response.status == 200
        assert page.title().startswith("Teams")
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.mark.parametrize("who", ["owner", "member"])
def test_axe_finds_nothing_serious_on_the_teams_page(
    who: str, open_as: Callable[..., Page]
) -> None:
    page = open_as(who)
    violations = run_axe(page)
    assert (found := serious(violations)) == [], describe(found)


@pytest.mark.parametrize("who", ["owner", "member"])
def test_the_teams_page_does_not_scroll_sideways_on_a_phone(
    who: str, open_as: Callable[..., Page]
) -> None:
    page = open_as(who, PHONE)
    page.wait_for_load_state("networkidle")
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width


def test_a_member_sees_their_teams_and_nothing_to_change(open_as: Callable[..., Page]) -> None:
    page = open_as("member")
    main = page.locator("main")
    expect(main.get_by_role("heading", name="Your teams")).to_be_visible()
    expect(main).to_contain_text("Platform engineering")
    expect(main).to_contain_text("Customer success")
    expect(main).not_to_contain_text("Nobody's team")
    expect(main.locator("form")).to_have_count(0)


def test_an_owner_creates_a_team_and_adds_a_member_with_the_mouse(
    open_as: Callable[..., Page], member_email: str
) -> None:
    page = open_as("owner")
    page.get_by_label("Name", exact=True).fill("Research")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("status")).to_contain_text("The team is created")
    card = page.locator("section", has=page.get_by_role("heading", name="Research"))
    card.get_by_label("Add a member to Research").select_option(label=member_email)
    card.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("The member is in the team")
    card = page.locator("section", has=page.get_by_role("heading", name="Research"))
    expect(card.locator("table")).to_contain_text(member_email)
    expect(card.get_by_role("heading", name="Research")).to_contain_text("1 member")
