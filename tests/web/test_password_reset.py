"""Self-service password reset, through a real (local) SMTP server and the console's doors.

A single-use link mailed to the address, an hour to use it, the password
policy on the new password, every session ended; the same answer for every
address; and the link, its token and the new password in no log, audit
entry or database row.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text, update

from chatgrid.audit import AuditFilter
from chatgrid.context import AppContext
from chatgrid.store.tables import account_links, metadata
from tests.support.canary import assert_found_nowhere
from tests.support.console import PASSWORD, Browser, World, build_world, csrf_in, unique
from tests.support.mail import TEST_SERVER, Inbox, body_of, link_in

NEW_PASSWORD = "brand new passphrase 77"
FIXED_PAST = datetime(2001, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def mail_world(mail_context: AppContext) -> World:
    return build_world(mail_context)


def api_post(browser: Browser, url: str, body: dict[str, Any]) -> Any:
    token = browser.get("/api/csrf").json()["csrf_token"]
    return browser.api("POST", url, body, csrf=token)


def ask_for_reset(browser: Browser, email: str) -> Any:
    form = browser.get("/password/forgot")
    return browser.form("/password/forgot", {"email": email}, csrf=csrf_in(form.text))


def reset_link(inbox: Inbox, email: str) -> str:
    return link_in(inbox.last_to(email), TEST_SERVER, "/password/reset/")


def test_a_forgotten_password_is_reset_by_the_mailed_link_and_every_session_ends(
    mail_world: World, inbox: tuple[Inbox, int]
) -> None:
    w, email = mail_world, mail_world.alice.email
    other_device = w.browser()
    other_device.sign_in(email)
    login = w.browser().get("/login")
    assert 'href="/password/forgot"' in login.text

    stranger = w.browser()
    asked = ask_for_reset(stranger, email)
    assert asked.status_code == 200 and f"We sent an email to {email}" in asked.text
    message = inbox[0].last_to(email)
    assert message["Subject"] == "Reset your ChatGrid password"
    link = reset_link(inbox[0], email)

    page = stranger.get(link)
    assert page.status_code == 200 and email in page.text
    weak = stranger.form(link, {"password": "password"}, csrf=csrf_in(page.text))
    assert weak.status_code == 400 and "common" in weak.text  # the link still works
    done = stranger.form(link, {"password": NEW_PASSWORD}, csrf=csrf_in(weak.text))
    assert done.status_code == 200 and "every session of your account has ended" in done.text
    assert "cg_session" not in str(done.headers)  # a reset is not a sign-in

    for browser in (w.alice.browser, other_device):
        assert browser.api("GET", "/api/session").status_code == 401
    old = api_post(w.browser(), "/api/session", {"email": email, "password": PASSWORD})
    assert old.status_code == 401
    assert w.browser().sign_in(email, NEW_PASSWORD)["user"]["email"] == email
    assert (
        stranger.form(link, {"password": "yet another one 99"}, csrf=csrf_in(page.text)).status_code
        == 410
    )
    assert stranger.get(link).status_code == 410

    trail = w.ctx.audit.entries(w.org_a, AuditFilter(action="account."))
    assert [e.action for e in reversed(trail)] == [
        "account.password_reset_requested",
        "account.password_reset",
    ]
    assert trail[0].details == {"email": email, "sessions_ended": 2}


def test_the_answer_is_the_same_whether_or_not_an_account_uses_the_address(
    mail_world: World, inbox: tuple[Inbox, int]
) -> None:
    w = mail_world
    known, unknown = w.bob.email, unique("stranger")
    answers = []
    for email in (known, unknown):
        response = api_post(w.browser(), "/api/password/forgot", {"email": email})
        assert response.status_code == 202
        answers.append((response.json().keys(), str(response.json()).replace(email, "…")))
    assert answers[0] == answers[1]
    pages = {
        ask_for_reset(w.browser(), e).text.replace(e, "…") for e in (w.dave.email, unique("x"))
    }
    assert len(pages) == 1
    # Each address got one email: a link for the account, a note for the stranger.
    assert "/password/reset/cgr_" in body_of(inbox[0].last_to(known))
    note = inbox[0].last_to(unknown)
    assert note["Subject"] == "No ChatGrid account uses this address"
    assert "cgr_" not in body_of(note)
    # Only the existing account's request is audited.
    requested = w.ctx.audit.entries(w.org_a, AuditFilter(action="account.password_reset_requested"))
    assert {e.details["email"] for e in requested} == {known, w.dave.email}
    anywhere = w.ctx.audit.entries(None, AuditFilter(action="account."))
    assert anywhere == []


def test_a_link_works_once_only_for_its_own_account_and_only_the_newest_one(
    mail_world: World, inbox: tuple[Inbox, int]
) -> None:
    w = mail_world
    api_post(w.browser(), "/api/password/forgot", {"email": w.bob.email})
    first = reset_link(inbox[0], w.bob.email).rsplit("/", 1)[1]
    api_post(w.browser(), "/api/password/forgot", {"email": w.bob.email})
    newest = reset_link(inbox[0], w.bob.email).rsplit("/", 1)[1]
    replaced = api_post(
        w.browser(), "/api/password/reset", {"token": first, "password": NEW_PASSWORD}
    )
    assert replaced.status_code == 410 and replaced.json()["error"]["code"] == "link_unusable"
    used = api_post(w.browser(), "/api/password/reset", {"token": newest, "password": NEW_PASSWORD})
    assert used.status_code == 204
    again = api_post(
        w.browser(), "/api/password/reset", {"token": newest, "password": "other one 12"}
    )
    assert again.status_code == 410
    assert again.json()["error"]["message"] == replaced.json()["error"]["message"]
    # Bob's link changed Bob's password and nobody else's.
    assert w.browser().sign_in(w.bob.email, NEW_PASSWORD)
    assert w.browser().sign_in(w.dave.email, PASSWORD)
    assert w.browser().sign_in(w.alice.email, PASSWORD)
    # A token for another purpose or of nothing opens nothing.
    for token in ("cgv_" + newest[4:], newest[:-3] + "abc", "", "x" * 300):
        refused = api_post(
            w.browser(), "/api/password/reset", {"token": token, "password": NEW_PASSWORD}
        )
        assert refused.status_code in (400, 410), token  # 400: longer than the schema allows


def test_an_expired_reset_link_is_refused_and_changes_nothing(
    mail_world: World, inbox: tuple[Inbox, int]
) -> None:
    w = mail_world
    ask_for_reset(w.browser(), w.dave.email)
    link = reset_link(inbox[0], w.dave.email)
    with w.ctx.engine.begin() as conn:
        conn.execute(update(account_links).values(expires_at=FIXED_PAST))
    stranger = w.browser()
    assert stranger.get(link).status_code == 410
    form = stranger.get("/password/forgot")
    refused = stranger.form(link, {"password": NEW_PASSWORD}, csrf=csrf_in(form.text))
    assert refused.status_code == 410 and "ask for a new one" in refused.text
    assert w.browser().sign_in(w.dave.email, PASSWORD)
    assert w.dave.browser.api("GET", "/api/session").status_code == 200


def test_asking_is_throttled_per_address_silently_and_per_client_openly(
    mail_context: AppContext, inbox: tuple[Inbox, int]
) -> None:
    world = build_world(mail_context)
    browser = world.browser()  # one client address ("testclient") for every request below
    answers = [
        api_post(browser, "/api/password/forgot", {"email": world.alice.email}) for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [202] * 5
    assert len({str(a.json()) for a in answers}) == 1
    assert len(inbox[0].to(world.alice.email)) == 3  # the address's share for the window
    for n in range(5):
        assert api_post(browser, "/api/email/resend", {"email": unique(f"p{n}")}).status_code == 202
    refused = api_post(browser, "/api/password/forgot", {"email": world.bob.email})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "link_requests_throttled"
    assert int(refused.headers["retry-after"]) > 0
    assert inbox[0].to(world.bob.email) == []
    page = ask_for_reset(browser, world.bob.email)
    assert page.status_code == 429 and "too many requests" in page.text


def test_the_link_and_the_new_password_are_kept_nowhere(
    mail_world: World, inbox: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    w = mail_world
    caplog.set_level(logging.DEBUG)
    api_post(w.browser(), "/api/password/forgot", {"email": w.alice.email})
    link = reset_link(inbox[0], w.alice.email)
    token = link.rsplit("/", 1)[1]
    stranger = w.browser()
    page = stranger.get(link)
    assert (
        stranger.form(link, {"password": NEW_PASSWORD}, csrf=csrf_in(page.text)).status_code == 200
    )
    audit = " ".join(
        f"{e.action} {e.target} {e.details}"
        for org in (w.org_a, w.org_b, None)
        for e in w.ctx.audit.entries(org, AuditFilter())
    )
    dump = []
    with w.ctx.engine.connect() as conn:
        for table in metadata.sorted_tables:
            dump.extend(str(row) for row in conn.execute(text(f"SELECT * FROM {table.name}")))  # noqa: S608
    # ChatGrid's own log lines (the test's HTTP client and SMTP server log the link, as
    # the browser and the mailbox hold it); the server's whole log: tests/integration.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("chatgrid")]
    haystacks = {
        "audit log": audit.encode(),
        "database": "\n".join(dump).encode(),
        "log": "\n".join(ours).encode(),
    }
    assert "account.password_reset" in audit
    needles = {"token": token.encode(), "token's body": token[4:20].encode()}
    needles["new password"] = NEW_PASSWORD.encode()
    assert_found_nowhere(haystacks, needles, may_be_empty=frozenset({"log"}))
