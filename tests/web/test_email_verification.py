"""Email verification at sign-up, through a real (local) SMTP server and the console's doors.

On an instance that sends mail, the account a sign-up creates signs in only
after the link mailed to it is opened; the answers never tell whether an
address had an account, and a dead link is one 410 whatever killed it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from starlette.testclient import TestClient

from chatgrid.admin import accounts, members
from chatgrid.audit import Actor, AuditFilter
from chatgrid.context import AppContext
from chatgrid.identity.models import Role
from chatgrid.store.tables import account_links, unverified_accounts
from chatgrid.web import create_web_app
from tests.support.console import (
    CLIENT,
    PASSWORD,
    Browser,
    World,
    build_world,
    csrf_in,
    open_context,
    unique,
)
from tests.support.mail import TEST_SERVER, Inbox, body_of, link_in, mail_settings
from tests.support.processes import free_port

CHOSEN = "a passphrase of my own 42"
FIXED_PAST = datetime(2001, 2, 3, 4, 5, tzinfo=UTC)


def browser_on(ctx: AppContext) -> Browser:
    return Browser(TestClient(create_web_app(ctx), follow_redirects=False))


def sign_up_page(browser: Browser, email: str, org_name: str) -> Any:
    form = browser.get("/signup")
    return browser.form(
        "/signup",
        {"email": email, "password": CHOSEN, "org_name": org_name},
        csrf=csrf_in(form.text),
    )


def api_post(browser: Browser, url: str, body: dict[str, Any]) -> Any:
    """A pre-session call (sign in, sign up, links) with the pre-session CSRF token."""
    token = browser.get("/api/csrf").json()["csrf_token"]
    return browser.api("POST", url, body, csrf=token)


def actions(ctx: AppContext, org_id: str | None) -> list[str]:
    return [entry.action for entry in reversed(ctx.audit.entries(org_id, AuditFilter()))]


def test_a_new_account_confirms_its_address_before_it_signs_in(
    mail_context: AppContext, inbox: tuple[Inbox, int]
) -> None:
    ctx, email = mail_context, unique("newcomer")
    browser = browser_on(ctx)
    answer = sign_up_page(browser, email, "Confirmed Co")
    assert answer.status_code == 200 and f"We sent an email to {email}" in answer.text
    assert "cg_session" not in str(answer.headers)
    message = inbox[0].last_to(email)
    assert message["Subject"] == "Confirm your email address for ChatGrid"
    link = link_in(message, TEST_SERVER, "/email/verify/")

    # The right password is not enough yet, through either door.
    refused = api_post(browser_on(ctx), "/api/session", {"email": email, "password": CHOSEN})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "email_not_verified"
    login = browser.get("/login")
    page = browser.form("/login", {"email": email, "password": CHOSEN}, csrf=csrf_in(login.text))
    assert page.status_code == 403 and "confirm your email address first" in page.text
    assert 'action="/email/resend"' in page.text and "cg_session" not in str(page.headers)
    wrong = api_post(browser_on(ctx), "/api/session", {"email": email, "password": "not it 123"})
    assert wrong.status_code == 401  # a wrong password says nothing about the address

    # Opening the link shows a button; only pressing it confirms (a mail scanner spends nothing).
    shown = browser.get(link)
    assert shown.status_code == 200 and email in shown.text
    still = api_post(browser_on(ctx), "/api/session", {"email": email, "password": CHOSEN})
    assert still.status_code == 403
    confirmed = browser.form(link, {}, csrf=csrf_in(shown.text))
    assert confirmed.status_code == 200 and "Your email address is confirmed" in confirmed.text
    orgs = browser_on(ctx).sign_in(email, CHOSEN)["orgs"]
    assert [m["org_name"] for m in orgs] == ["Confirmed Co"]
    again = browser.form(link, {}, csrf=csrf_in(shown.text))
    assert again.status_code == 410 and "ask for a new one" in again.text
    assert browser.get(link).status_code == 410

    org_id = orgs[0]["org_id"]
    trail = ctx.audit.entries(org_id, AuditFilter(action="account."))
    assert [e.action for e in reversed(trail)] == [
        "account.verification_sent",
        "account.email_verified",
    ]
    assert trail[0].details == {"email": email, "by": "link"}
    failed = ctx.audit.entries(org_id, AuditFilter(action="signin.failed"))
    assert {e.details["reason"] for e in failed} == {"email_not_verified", "wrong_credentials"}


def test_sign_up_answers_and_mails_alike_for_a_new_and_a_known_address(
    mail_context: AppContext, inbox: tuple[Inbox, int]
) -> None:
    world = build_world(mail_context)
    new_email, known_email = unique("fresh"), world.alice.email
    answers = []
    for email, org in ((new_email, "Newco One"), (known_email, "Newco Two")):
        response = api_post(
            world.browser(), "/api/signup", {"email": email, "password": CHOSEN, "org_name": org}
        )
        assert response.status_code == 202
        body = response.json()
        assert body["status"] == "check_email"
        answers.append(str(body).replace(email, "…").replace(org, "…"))
    assert answers[0] == answers[1]
    # Each address got exactly one email; only the new one holds a link.
    [to_new], [to_known] = inbox[0].to(new_email), inbox[0].to(known_email)
    assert "/email/verify/cgv_" in body_of(to_new)
    assert to_known["Subject"] == "You already have a ChatGrid account"
    assert "cgv_" not in body_of(to_known) and f"{TEST_SERVER}/password/forgot" in body_of(to_known)
    # Sign-up pages answer alike too.
    pages = []
    for email, org in ((unique("pagecomer"), "Pageco One"), (world.charlie.email, "Pageco Two")):
        response = sign_up_page(world.browser(), email, org)
        assert response.status_code == 200
        pages.append(response.text.replace(email, "…").replace(org, "…"))
    first, second = (p.replace(csrf_in(p), "") for p in pages)
    assert first == second


def test_the_link_is_sent_again_and_the_older_one_stops_working(
    mail_context: AppContext, inbox: tuple[Inbox, int]
) -> None:
    ctx, email = mail_context, unique("forgetful")
    browser = browser_on(ctx)
    sign_up_page(browser, email, "Resent Co")
    first = link_in(inbox[0].last_to(email), TEST_SERVER, "/email/verify/")
    # The "send it again" button the sign-in page shows after the right password.
    login = browser.get("/login")
    page = browser.form("/login", {"email": email, "password": CHOSEN}, csrf=csrf_in(login.text))
    resent = browser.form("/email/resend", {"email": email}, csrf=csrf_in(page.text))
    assert resent.status_code == 200 and f"We sent an email to {email}" in resent.text
    second = link_in(inbox[0].last_to(email), TEST_SERVER, "/email/verify/")
    assert second != first
    assert browser.get(first).status_code == 410
    shown = browser.get(second)
    assert browser.form(second, {}, csrf=csrf_in(shown.text)).status_code == 200
    assert browser_on(ctx).sign_in(email, CHOSEN)["orgs"]


def test_asking_again_answers_alike_for_every_address(
    mail_context: AppContext, inbox: tuple[Inbox, int]
) -> None:
    world = build_world(mail_context)
    waiting = unique("waiting")
    sign_up_page(world.browser(), waiting, "Waiting Co")
    nobody = unique("nobody")
    answers = {}
    for email in (waiting, world.alice.email, nobody):
        response = api_post(world.browser(), "/api/email/resend", {"email": email})
        assert response.status_code == 202
        answers[email] = str(response.json()).replace(email, "…")
    assert len(set(answers.values())) == 1
    pages = set()
    for email in (waiting, world.bob.email, unique("nobody-else")):
        browser = world.browser()
        form = browser.get("/email/resend")
        page = browser.form("/email/resend", {"email": email}, csrf=csrf_in(form.text))
        assert page.status_code == 200
        pages.add(page.text.replace(email, "…"))
    assert len(pages) == 1
    # One email to each address, saying what is true.
    assert inbox[0].last_to(waiting)["Subject"] == "Confirm your email address for ChatGrid"
    assert inbox[0].last_to(world.alice.email)["Subject"] == (
        "Your ChatGrid address is already confirmed"
    )
    assert inbox[0].last_to(nobody)["Subject"] == "No ChatGrid account uses this address"
    assert "cgv_" not in body_of(inbox[0].last_to(nobody))


def test_an_expired_or_foreign_link_is_refused_alike(
    mail_context: AppContext, inbox: tuple[Inbox, int]
) -> None:
    ctx, email = mail_context, unique("late")
    browser = browser_on(ctx)
    sign_up_page(browser, email, "Late Co")
    link = link_in(inbox[0].last_to(email), TEST_SERVER, "/email/verify/")
    token = link.rsplit("/", 1)[1]
    with ctx.engine.begin() as conn:
        conn.execute(update(account_links).values(expires_at=FIXED_PAST))
    dead = [
        browser.get(link),
        api_post(browser, "/api/email/verify", {"token": token}),
        api_post(browser, "/api/email/verify", {"token": token[:-2] + "xy"}),
        api_post(browser, "/api/email/verify", {"token": "cgr_" + token[4:]}),
        browser.get("/email/verify/cgi_not-a-link"),
    ]
    assert [r.status_code for r in dead] == [410] * 5
    assert {r.json()["error"]["code"] for r in dead[1:4]} == {"link_unusable"}
    assert len({r.json()["error"]["message"] for r in dead[1:4]}) == 1
    refused = api_post(browser_on(ctx), "/api/session", {"email": email, "password": CHOSEN})
    assert refused.status_code == 403  # still not verified


def test_an_invitation_accepted_with_the_password_verifies_the_address(
    mail_context: AppContext, inbox: tuple[Inbox, int]
) -> None:
    ctx, email = mail_context, unique("invitee")
    sign_up_page(browser_on(ctx), email, "Own Co")
    host = accounts.sign_up(
        ctx, email=unique("host"), password=PASSWORD, org_name="Host Co", client=CLIENT
    )
    issued = members.invite(
        ctx,
        host.org,
        host.owner,
        Actor(host.user.id, host.user.email),
        email=email,
        role=Role.MEMBER,
        link_base=TEST_SERVER,
        mailer=None,
        send_email=False,
    )
    assert issued.link is not None
    token = issued.link.rsplit("/", 1)[1]
    joined = api_post(
        browser_on(ctx), "/api/invitations/accept", {"token": token, "password": CHOSEN}
    )
    assert joined.status_code == 200, joined.text
    orgs = {m["org_name"]: m["org_id"] for m in browser_on(ctx).sign_in(email, CHOSEN)["orgs"]}
    assert set(orgs) == {"Own Co", "Host Co"}
    # Written where the account belonged when it was verified (before it joined).
    verified = ctx.audit.entries(orgs["Own Co"], AuditFilter(action="account.email_verified"))
    assert verified[0].details == {"email": email, "by": "invitation"}


def test_without_mail_sign_up_works_as_before_and_the_pages_say_why(world: World) -> None:
    email = unique("offline")
    answer = sign_up_page(world.browser(), email, "Offline Co")
    assert answer.status_code == 200 and f"Sign in as {email}" in answer.text
    assert world.browser().sign_in(email, CHOSEN)["orgs"]
    api = api_post(
        world.browser(),
        "/api/signup",
        {"email": unique("offline2"), "password": CHOSEN, "org_name": "Offline Two"},
    )
    assert api.json()["status"] == "sign_in"
    for url in ("/password/forgot", "/email/resend"):
        page = world.browser().get(url)
        assert page.status_code == 200 and "does not send email" in page.text
        assert 'name="email"' not in page.text
    refused = api_post(world.browser(), "/api/password/forgot", {"email": world.alice.email})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "mail_not_configured"
    assert "signin.failed" not in actions(world.ctx, world.org_a)


def test_a_mail_server_that_refuses_is_told_alike_and_the_account_waits(
    tmp_path: Path, postgres_database: str | None
) -> None:
    ctx = open_context(
        tmp_path / "data",
        postgres_database,
        **mail_settings(free_port()),  # nothing listens there
        smtp_timeout_seconds=2,
    )
    try:
        known = accounts.sign_up(
            ctx, email=unique("known"), password=PASSWORD, org_name="Known Co", client=CLIENT
        )
        new_email = unique("unlucky")
        answers = []
        for email, org in ((new_email, "Unlucky Co"), (known.user.email, "Other Co")):
            response = api_post(
                browser_on(ctx),
                "/api/signup",
                {"email": email, "password": CHOSEN, "org_name": org},
            )
            assert response.status_code == 502
            answers.append(response.json())
        assert answers[0] == answers[1] and answers[0]["error"]["code"] == "mail_failed"
        # The new account exists and waits for its address, as any unverified one does.
        waiting = api_post(
            browser_on(ctx), "/api/session", {"email": new_email, "password": CHOSEN}
        )
        assert (
            waiting.status_code == 403 and waiting.json()["error"]["code"] == "email_not_verified"
        )
    finally:
        ctx.close()


def test_a_sign_up_and_its_unverified_mark_commit_together_or_not_at_all(
    mail_context: AppContext, inbox: tuple[Inbox, int]
) -> None:
    """Written apart, a crash after the account and before its mark would leave an account
    that signs in without ever confirming its address. Here the mark cannot be written
    (its table is gone): the sign-up fails and leaves no account, org or mail behind."""
    ctx = mail_context
    done = unique("whole")
    body = {"email": done, "password": CHOSEN, "org_name": "Whole Co"}
    assert api_post(browser_on(ctx), "/api/signup", body).status_code == 202
    user = ctx.accounts.find_user(done)
    assert user is not None
    with ctx.engine.connect() as conn:
        marks = conn.execute(
            select(func.count()).where(unverified_accounts.c.user_id == user.id)
        ).scalar_one()
    assert marks == 1

    halfway = unique("halfway")
    with ctx.engine.begin() as conn:
        conn.execute(text("DROP TABLE unverified_accounts"))
    body = {"email": halfway, "password": CHOSEN, "org_name": "Halfway Co"}
    with pytest.raises(DBAPIError):
        api_post(browser_on(ctx), "/api/signup", body)
    assert ctx.accounts.find_user(halfway) is None
    ctx.accounts.check_org_name_free("Halfway Co")  # raises if the org was left behind
    assert inbox[0].to(halfway) == []
