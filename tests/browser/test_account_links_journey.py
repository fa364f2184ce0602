"""Mailed links in a real browser: sign up, confirm the address, forget the password, reset it.

The server mails through a local SMTP server (aiosmtpd); the browser opens
the links found in the mail, as their reader would.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.deployment import Deployment, deployment_with
from tests.support.mail import Inbox, as_env, link_in, mail_settings, running_inbox
from tests.support.processes import RunningProcess

PUBLIC_URL = "http://chatgrid.test"


@pytest.fixture
def mailing(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[tuple[Deployment, Inbox]]:
    with running_inbox() as (inbox, port):
        settings = mail_settings(port, PUBLIC_URL)
        env = as_env(settings)
        for deployment in deployment_with(tmp_path, postgres_database, simulator, env, **settings):
            yield deployment, inbox


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    """The sign-in page, whether it asks for the address first or both at once."""
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    if not page.get_by_label("Password").count():
        page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_up_confirm_forget_and_reset_in_a_browser(
    browser: Browser, mailing: tuple[Deployment, Inbox]
) -> None:
    deployment, inbox = mailing
    base = deployment.instance.base_url
    email = f"dana-{secrets.token_hex(3)}@acme.example"
    password = f"Dana-first-{secrets.token_hex(6)}"
    new_password = f"Dana-reset-{secrets.token_hex(6)}"

    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.goto(f"{base}/signup")
    page.get_by_label("Organization name").fill("Dana Labs")
    page.get_by_label("Your work email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create organization").click()
    expect(page.locator("#signed-up")).to_contain_text(f"We sent an email to {email}")

    # The right password, but the address is not confirmed: the page offers the link again.
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("confirm your email address first")
    page.get_by_role("button", name="Send the confirmation link again").click()
    expect(page.locator("#link-sent")).to_contain_text(f"We sent an email to {email}")
    first, second = inbox.to(email)
    assert first["Subject"] == second["Subject"] == "Confirm your email address for ChatGrid"

    page.goto(base + link_in(second, PUBLIC_URL, "/email/verify/"))
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.locator("#signed-up")).to_contain_text("Your email address is confirmed")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/orgs/*")
    org_url = page.url.split("?")[0]

    # Another browser forgot the password.
    other = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    other.goto(f"{base}/login")
    other.get_by_role("link", name="Forgot your password?").click()
    other.get_by_label("Email").fill(email)
    other.get_by_role("button", name="Email me a link").click()
    expect(other.locator("#link-sent")).to_contain_text(f"We sent an email to {email}")
    reset = inbox.last_to(email)
    assert reset["Subject"] == "Reset your ChatGrid password"
    other.goto(base + link_in(reset, PUBLIC_URL, "/password/reset/"))
    other.get_by_label("New password").fill("password")  # a common one: refused, link kept
    other.get_by_role("button", name="Set the new password").click()
    expect(other.get_by_role("alert")).to_contain_text("common")
    other.get_by_label("New password").fill(new_password)
    other.get_by_role("button", name="Set the new password").click()
    expect(other.locator("#signed-up")).to_contain_text("every session of your account has ended")

    # The first browser's session ended with the reset.
    page.goto(org_url)
    page.wait_for_url("**/login*")
    sign_in(other, base, email, new_password)
    other.wait_for_url("**/orgs/*")
    assert other.url.split("?")[0] == org_url
