"""Two-step sign-in in a real browser: an org requires it, a member is sent to set it up
at sign-in, scans nothing but reads the key, keeps the recovery codes, and from then on
signs in with a code — or a recovery code when the phone is away.

Codes are made from the key at the real time the server checks them, one step apart,
which the ±1-step drift rule accepts whatever the second hand shows.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from chatgrid.admin import people, second_factor
from chatgrid.audit import Actor
from chatgrid.identity import totp
from chatgrid.identity.models import BillingMode, Role
from chatgrid.identity.passwords import hash_password
from chatgrid.store.types import utcnow
from tests.support.axe import describe, run_axe, serious
from tests.support.deployment import Deployment, start_deployment
from tests.support.processes import RunningProcess

PASSWORD = "correct horse battery staple"


@pytest.fixture
def deployment(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[Deployment]:
    yield from start_deployment(tmp_path, postgres_database, simulator)


def code(secret: str, steps_ahead: int = 0) -> str:
    return totp.code_at_step(secret.replace(" ", ""), totp.time_step(utcnow()) + steps_ahead)


def accessible(page: Page) -> None:
    """axe-core finds nothing serious or critical on the page (as on every console page)."""
    assert (found := serious(run_axe(page))) == [], describe(found)


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    email_first = page.get_by_role("button", name="Continue")
    if email_first.count():  # the address first: it may belong to a single sign-on domain
        email_first.click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_member_is_sent_to_set_it_up_and_signs_in_with_codes_after(
    browser: Browser, deployment: Deployment
) -> None:
    ctx, base = deployment.context, deployment.instance.base_url
    org = people.create_org(ctx, f"Acme {secrets.token_hex(3)}", BillingMode.BYOK)
    email = f"dana-{secrets.token_hex(3)}@acme.example"
    member = people.add_member(ctx, org.id, email, Role.MEMBER)
    ctx.accounts.set_password(member.user_id, hash_password(PASSWORD))
    second_factor.set_org_rule(ctx, org.id, Actor.cli(), True)

    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    sign_in(page, base, email)
    page.wait_for_url(re.compile(r".*/account/two-step\?next=.*"))
    expect(page.locator("#second-factor-required")).to_contain_text("requires two-step sign-in")
    page.get_by_role("button", name="Set up two-step sign-in").click()

    qr = page.locator("#totp-qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 0  # the data: image passed the CSP
    secret = page.locator("#totp-secret").input_value()
    accessible(page)
    page.get_by_label("Six-digit code").fill("000000")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("alert")).to_contain_text("not the code the app shows")
    assert page.locator("#totp-secret").input_value() == secret  # the same key, once more
    page.get_by_label("Six-digit code").fill(code(secret))
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Turn on two-step sign-in").click()

    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    accessible(page)
    page.get_by_role("link", name="I have saved them").click()
    page.wait_for_url(f"{base}/orgs/{org.id}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base, email)
    page.wait_for_url(re.compile(r".*/login/second-step.*"))
    accessible(page)
    page.get_by_label("Code").fill(code(secret, 1))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/orgs/{org.id}")

    page.goto(f"{base}/account")
    expect(page.locator("#sessions")).to_contain_text("this one")
    expect(page.locator("#recovery-codes-left")).to_have_text("10")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, base, email)
    page.wait_for_url(re.compile(r".*/login/second-step.*"))
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/orgs/{org.id}")
    page.goto(f"{base}/account")
    expect(page.locator("#recovery-codes-left")).to_have_text("9")
