"""Refusals in the chat page: what happened and what to do next, and nothing lost.

A member is chatting when their org stops being able to call the model: the
trial ends, the shared-credit cap is reached, an admin revokes the key, or the
org stops allowing the model. Pressing Send then shows a plain-language alert,
leaves the typed text in the composer, and adds nothing to the conversation,
neither on the page nor in what ChatGrid keeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import update

from chatgrid.admin import keys
from chatgrid.admin.billing import member_budget_status, set_member_cap
from chatgrid.admin.orgs import set_policy
from chatgrid.audit import Actor
from chatgrid.identity.models import BillingMode
from chatgrid.identity.passwords import hash_password
from chatgrid.limits.policy import OrgPolicy
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.store.tables import orgs
from chatgrid.store.types import utcnow
from tests.support.browser import PASSWORD, WAIT_MS, Member, open_chat, screenshot, sign_in
from tests.support.deployment import Deployment

T = TypeVar("T")


def off_the_page_loop(work: Callable[[], T]) -> T:
    """Run set-up that starts its own event loop; Playwright's sync API owns this thread's."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def chatter(deployment: Deployment, mode: BillingMode = BillingMode.BYOK) -> Member:
    """An org (BYOK on the simulator, or shared credits) and an owner who can sign in."""
    org = off_the_page_loop(lambda: deployment.new_org(mode))
    owner = deployment.context.members.get(org.id, org.member_id)
    deployment.context.accounts.set_password(owner.user_id, hash_password(PASSWORD))
    return Member(org.id, owner.email)


@pytest.fixture(scope="module")
def pooled(deployment: Deployment) -> Deployment:
    """The deployment with a pooled key, so shared-credit orgs can chat."""
    config = UpstreamConfig.create(Provider.OPENAI, base_url=f"{deployment.simulator.base_url}/v1")
    off_the_page_loop(
        lambda: asyncio.run(
            keys.add_pool_key(deployment.context, "pool-refusals", config, "sk-pool-refusals-abc")
        )
    )
    return deployment


def chatting(browser: Browser, deployment: Deployment, member: Member) -> Page:
    """Signed in, with one answered question in a conversation of their own."""
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    sign_in(page, deployment.instance.base_url, member.email)
    open_chat(page, deployment.instance.base_url, member)
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("Good morning")
    page.get_by_role("button", name="Send", exact=True).click()
    answer = page.locator("article.message-assistant").last
    expect(answer.locator(".usage")).to_contain_text("tokens", timeout=WAIT_MS)
    expect(page.locator("article.message")).to_have_count(2)
    return page


def conversation_of(page: Page) -> str:
    return page.url.rsplit("/chat/", 1)[1]


def send_and_get_refused(page: Page, deployment: Deployment, member: Member, text: str) -> Locator:
    """Press Send; the alert that comes back, once we know nothing was lost or added."""
    stored = deployment.context.conversations.messages(member.org_id, conversation_of(page))
    shown = page.locator("article.message").count()
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill(text)
    page.get_by_role("button", name="Send", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible(timeout=WAIT_MS)
    expect(prompt).to_have_value(text)
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()
    expect(page.locator("article.message")).to_have_count(shown)
    expect(page.locator("article.message-assistant.is-streaming")).to_have_count(0)
    after = deployment.context.conversations.messages(member.org_id, conversation_of(page))
    assert [m.id for m in after] == [m.id for m in stored]
    return alert


def still_the_same_conversation(page: Page, count: int) -> None:
    """After a reload the conversation shows what it showed before the refusal."""
    page.reload()
    expect(page.locator("article.message")).to_have_count(count, timeout=WAIT_MS)


def set_org(deployment: Deployment, org_id: str, **values: object) -> None:
    with deployment.context.engine.begin() as conn:
        conn.execute(update(orgs).where(orgs.c.id == org_id).values(**values))
    deployment.context.changes.bump()


def test_an_ended_trial_says_to_choose_a_plan_and_keeps_the_text(
    browser: Browser, deployment: Deployment
) -> None:
    alice = chatter(deployment)
    page = chatting(browser, deployment, alice)
    set_org(deployment, alice.org_id, trial_ends_at=utcnow() - timedelta(minutes=1), plan_id=None)

    alert = send_and_get_refused(page, deployment, alice, "Summarise yesterday's standup")
    expect(alert).to_contain_text("free trial has ended")
    expect(alert).to_contain_text("an admin chooses a plan")
    expect(alert).to_contain_text("history stays readable")
    screenshot(page, "chat-refused-trial-ended")
    still_the_same_conversation(page, 2)
    page.context.close()


def test_an_exhausted_allowance_says_who_can_raise_it_and_keeps_the_text(
    browser: Browser, pooled: Deployment
) -> None:
    alice = chatter(pooled, BillingMode.SHARED)
    page = chatting(browser, pooled, alice)
    member = pooled.context.members.find_by_email(alice.org_id, alice.email)
    spent = member_budget_status(pooled.context, alice.org_id, member.id).used_micros
    assert spent > 0
    set_member_cap(pooled.context, alice.org_id, alice.email, spent, actor=Actor(None, "test"))

    alert = send_and_get_refused(page, pooled, alice, "One more question, please")
    expect(alert).to_contain_text("allowance")
    expect(alert).to_contain_text("spending cap")
    expect(alert).to_contain_text("used up")
    expect(alert).to_contain_text("An admin can raise the cap")
    screenshot(page, "chat-refused-allowance")
    still_the_same_conversation(page, 2)
    page.context.close()


def test_a_revoked_key_says_to_connect_a_key_and_keeps_the_text(
    browser: Browser, deployment: Deployment
) -> None:
    alice = chatter(deployment)
    page = chatting(browser, deployment, alice)
    keys.revoke_credential(deployment.context, alice.org_id)

    alert = send_and_get_refused(page, deployment, alice, "Draft the release notes")
    expect(alert).to_contain_text("no working OpenAI key")
    expect(alert).to_contain_text("cannot reach the model")
    expect(alert).to_contain_text("Ask an admin to connect a key on the Key page")
    screenshot(page, "chat-refused-key-revoked")
    still_the_same_conversation(page, 2)
    page.context.close()


def test_a_model_the_org_does_not_allow_is_not_offered(
    browser: Browser, deployment: Deployment
) -> None:
    alice = chatter(deployment)
    page = chatting(browser, deployment, alice)
    model = page.get_by_label("Model")
    expect(model).to_have_value("gpt-4o-mini")
    policy = OrgPolicy(allowed_models=frozenset({"gpt-4.1-mini"}))
    set_policy(deployment.context, alice.org_id, policy, actor="test")

    # A page opened before the change still lists the model; sending says why not.
    alert = send_and_get_refused(page, deployment, alice, "Translate this into French")
    expect(alert).to_contain_text("model is not allowed")
    expect(alert).to_contain_text("Pick another model")
    screenshot(page, "chat-refused-model")

    # Loaded again, the picker offers only what the org allows.
    still_the_same_conversation(page, 2)
    options = model.locator("option")
    expect(options).to_have_text(["gpt-4.1-mini"])
    expect(model).to_have_value("gpt-4.1-mini")
    page.get_by_label("Message", exact=True).fill("Translate this into French")
    page.get_by_role("button", name="Send", exact=True).click()
    answer = page.locator("article.message-assistant").last
    expect(answer.locator(".usage")).to_contain_text("tokens", timeout=WAIT_MS)
    expect(page.locator("article.message")).to_have_count(4)
    page.context.close()


def test_a_page_opened_after_the_trial_ended_still_says_why(
    browser: Browser, deployment: Deployment
) -> None:
    alice = chatter(deployment)
    page = chatting(browser, deployment, alice)
    set_org(deployment, alice.org_id, trial_ends_at=utcnow() - timedelta(minutes=1), plan_id=None)
    models = f"{deployment.instance.base_url}/api/orgs/{alice.org_id}/models"
    for _ in range(WAIT_MS // 250):  # until the server has noticed the trial ended
        if not page.context.request.get(models).json()["models"]:
            break
        page.wait_for_timeout(250)
    page.reload()
    expect(page.locator("article.message")).to_have_count(2, timeout=WAIT_MS)
    alert = send_and_get_refused(page, deployment, alice, "Summarise yesterday's standup")
    expect(alert).to_contain_text("free trial has ended", timeout=2_000)
    page.context.close()


def test_a_refused_first_message_leaves_no_empty_conversation(
    browser: Browser, deployment: Deployment
) -> None:
    alice = chatter(deployment)
    page = chatting(browser, deployment, alice)
    member = deployment.context.members.find_by_email(alice.org_id, alice.email)
    before = deployment.context.conversations.search(alice.org_id, member.id)
    page.get_by_role("button", name="New chat").click()
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("[sim:429=3] A brand new question")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("rate limit", timeout=WAIT_MS)
    expect(prompt).to_have_value("[sim:429=3] A brand new question")
    assert page.url.endswith("/chat")
    after = deployment.context.conversations.search(alice.org_id, member.id)
    assert [c.id for c in after] == [c.id for c in before]
    page.context.close()
