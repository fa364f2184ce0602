"""The console in a real browser: the admin's and the member's day, start to end.

sign-up → connect a key (the simulator) → invite a member → the member
joins and creates a token → the admin revokes the key → the member's call
is refused. A canary key, password and token used throughout are then
searched for everywhere: pages and API responses, logs, the database, Redis.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
import redis
from playwright.sync_api import Browser, Page, Response

from tests.support.browser import screenshot
from tests.support.deployment import REDIS_URL, Deployment, database_text, start_deployment
from tests.support.processes import RunningProcess


@pytest.fixture
def console(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[tuple[Deployment, str]]:
    """A server sharing state through Redis, so the Redis keys can be searched too."""
    prefix = f"cgtest-{secrets.token_hex(4)}"
    for running in start_deployment(tmp_path, postgres_database, simulator, redis_prefix=prefix):
        yield running, prefix


class Recorder:
    """Every body the browser received, except the one page that shows a token once."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.shown_once: set[str] = set()

    def __call__(self, response: Response) -> None:
        if response.url in self.shown_once:
            return
        try:
            self.bodies.append(response.body())
        except Exception:  # redirects and aborted loads carry no body
            return


def follow(page: Page, recorder: Recorder) -> None:
    page.on("response", recorder)
    page.on("dialog", lambda dialog: dialog.accept())


def test_admin_and_member_journey_leaks_no_secret(
    browser: Browser, console: tuple[Deployment, str]
) -> None:
    deployment, prefix = console
    base = deployment.instance.base_url
    upstream = f"{deployment.simulator.base_url}/v1"
    canary_key = f"sk-canary-{secrets.token_hex(16)}"
    admin_password = f"Canary-admin-{secrets.token_hex(8)}"
    member_password = f"Canary-member-{secrets.token_hex(8)}"
    recorder = Recorder()

    admin = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    follow(admin, recorder)
    admin.goto(f"{base}/signup")
    admin.get_by_label("Organization name").fill("Acme Robotics")
    admin.get_by_label("Your work email").fill("alice@acme.example")
    admin.get_by_label("Password").fill(admin_password)
    admin.get_by_role("button", name="Create organization").click()
    # Signing up never signs in (the answer is the same for a known address): sign in now.
    admin.get_by_label("Password").fill(admin_password)
    admin.get_by_role("button", name="Sign in").click()
    admin.wait_for_url("**/orgs/*")
    org_url = admin.url.split("?")[0]
    screenshot(admin, "overview")

    admin.goto(f"{org_url}/key?provider=openai-compatible")
    admin.get_by_label("Base URL").fill(upstream)
    admin.get_by_label("API key").fill(canary_key)
    admin.get_by_role("button", name="Validate and connect").click()
    admin.wait_for_load_state()
    assert canary_key[-4:] in admin.content()
    screenshot(admin, "key")

    admin.goto(f"{org_url}/members")
    admin.get_by_label("Email").fill("bob@acme.example")
    send_email = admin.get_by_label("Send by email")
    if send_email.count():
        send_email.uncheck()
    admin.get_by_role("button", name="Invite").click()
    invite_link = admin.locator("#invite-link").input_value()
    admin.goto(f"{org_url}/members")
    screenshot(admin, "members")

    member = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    follow(member, recorder)
    member.goto(invite_link)
    member.get_by_label("Password").fill(member_password)
    member.get_by_role("button", name="Join").click()
    member.wait_for_url("**/orgs/*/chat?*")  # an invited member lands on Chat
    member.goto(f"{org_url}/tokens")
    tokens_url = member.url
    recorder.shown_once.add(tokens_url)  # the POST answer shows the new token once
    member.get_by_role("button", name="Create token").click()
    token = member.locator("#new-token").input_value()
    recorder.shown_once.discard(tokens_url)
    member.goto(f"{org_url}/tokens")
    screenshot(member, "tokens")

    client = openai.OpenAI(base_url=f"{base}/v1", api_key=token, max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello from bob"}]
    )
    assert reply.choices[0].message.content

    admin.goto(f"{org_url}/key")
    admin.get_by_role("button", name="Revoke key").click()
    admin.wait_for_load_state()
    with pytest.raises(openai.PermissionDeniedError) as refused:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "after revocation"}]
        )
    assert "key" in str(refused.value)

    admin.goto(f"{org_url}/limits")
    screenshot(admin, "limits")
    admin.goto(f"{org_url}/audit")
    screenshot(admin, "audit")
    admin.goto(f"{org_url}/calls")
    screenshot(admin, "calls")

    deployment.instance.stop()
    store = redis.Redis.from_url(REDIS_URL)
    redis_dump = b"".join(
        key + repr(store.dump(key)).encode() for key in store.scan_iter(match=f"{prefix}*")
    )
    store.close()
    haystacks = {
        "pages and API responses": b"\n".join(recorder.bodies),
        "server log": deployment.instance.server.log_text().encode(),
        "database": database_text(deployment),
        "redis": redis_dump,
    }
    needles = {
        "key": canary_key[:-4].encode(),
        "admin password": admin_password.encode(),
        "member password": member_password.encode(),
        "token": token[12:].encode(),
    }
    assert haystacks["pages and API responses"], "the browser recorded nothing"
    assert haystacks["redis"], "nothing in Redis: the scenario did not use shared state"
    for where, haystack in haystacks.items():
        for what, needle in needles.items():
            assert needle not in haystack, f"the canary {what} leaked into {where}"
