"""Single sign-on in a real browser against a real identity provider (node's oidc-provider):
the owner connects the provider in the console and tests it, then a new colleague types
only their email, signs in at the provider and lands in the org as a member. The client
secret, typed once into the console, is then searched for everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import WAIT_MS, new_member, screenshot, sign_in
from tests.support.deployment import Deployment, database_text, start_deployment
from tests.support.oidc_idp import OidcIdp, serve_idp
from tests.support.processes import RunningProcess
from tests.support.sso import new_domain, verified_domain


@pytest.fixture
def running(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[tuple[Deployment, OidcIdp]]:
    """A server of this test's own (its log and database are searched) and a provider that
    knows its redirect URI."""
    for deployment in start_deployment(tmp_path, postgres_database, simulator):
        callback = f"{deployment.instance.base_url}/sso/oidc/callback"
        for idp in serve_idp(tmp_path, [callback]):
            yield deployment, idp


class Seen:
    """Every body the browsers received."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def follow(self, page: Page) -> Page:
        page.on("response", self._keep)
        page.on("dialog", lambda dialog: dialog.accept())
        return page

    def _keep(self, response: object) -> None:
        try:
            self.bodies.append(response.body())  # type: ignore[attr-defined]
        except Exception:  # redirects and aborted loads carry no body
            return


def test_an_owner_connects_a_provider_and_a_colleague_signs_in_with_only_their_email(
    browser: Browser, running: tuple[Deployment, OidcIdp]
) -> None:
    deployment, idp = running
    base = deployment.instance.base_url
    seen = Seen()
    owner = new_member(deployment)
    domain = new_domain()
    verified_domain(deployment.context, owner.org_id, domain)

    admin = seen.follow(browser.new_context(viewport={"width": 1280, "height": 860}).new_page())
    sign_in(admin, base, owner.email)
    admin.goto(f"{base}/orgs/{owner.org_id}/sso")
    expect(admin.locator("#redirect-uri")).to_have_text(f"{base}/sso/oidc/callback")
    admin.get_by_label("Issuer URL").fill(idp.issuer)
    admin.get_by_label("Client ID").fill(idp.client_id)
    admin.get_by_label("Client secret").fill(idp.client_secret)
    admin.get_by_label("Groups claim (optional)").fill("groups")
    admin.get_by_label("Group roles (optional)").fill("cg-admins=admin")
    admin.get_by_role("button", name="Check and connect").click()
    expect(admin.locator("#sso-facts")).to_contain_text(idp.issuer, timeout=WAIT_MS)
    admin.get_by_role("button", name="Test connection").click()
    expect(admin.locator("#sso-test")).to_contain_text("describes itself correctly")
    screenshot(admin, "sso")

    colleague = f"robin@{domain}"
    idp.set_user(colleague, email=colleague, email_verified=True, groups=["cg-admins"])
    page = seen.follow(browser.new_context(viewport={"width": 1280, "height": 860}).new_page())
    page.goto(f"{base}/login")
    expect(page.get_by_label("Password")).to_have_count(0)  # the email comes first
    page.get_by_label("Email").fill(colleague)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{idp.issuer}/**", timeout=WAIT_MS)
    page.locator("input[name=login]").fill(colleague)
    page.locator("input[name=password]").fill("the provider's own password")
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/orgs/{owner.org_id}", timeout=WAIT_MS)
    expect(page.locator(".sidebar")).to_contain_text("Members")  # admin, by the group's role
    assert colleague in page.content()

    deployment.instance.stop()
    assert deployment.instance.server is not None
    needle = idp.client_secret.encode()
    haystacks = {
        "what the browsers received": b"\n".join(seen.bodies),
        "server log": deployment.instance.server.log_text().encode(),
        "database": database_text(deployment),
        "audit log": repr(deployment.context.audit.entries(owner.org_id)).encode(),
    }
    for where, haystack in haystacks.items():
        assert haystack, f"nothing collected from {where}"
        assert needle not in haystack, f"the client secret leaked into the {where}"
        assert needle[:-4] not in haystack, f"most of the client secret is in the {where}"
