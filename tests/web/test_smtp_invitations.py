"""Invitations by email, through a real (local) SMTP server."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.testclient import TestClient

from chatgrid.admin import accounts
from chatgrid.audit import AuditFilter
from chatgrid.context import AppContext
from chatgrid.web import create_web_app
from tests.support.console import CLIENT, PASSWORD, Browser, csrf_in, open_context, unique
from tests.support.mail import Inbox
from tests.support.processes import free_port


def test_an_emailed_invitation_arrives_and_its_link_works(
    mail_context: AppContext, inbox: tuple[Inbox, int]
) -> None:
    ctx = mail_context
    made = accounts.sign_up(
        ctx, email=unique("alice"), password=PASSWORD, org_name="Mailers", client=CLIENT
    )
    app = create_web_app(ctx)
    alice = Browser(TestClient(app, follow_redirects=False))
    alice.sign_in(made.user.email)
    members_page = alice.get(f"/orgs/{made.org.id}/members")
    assert "Send by email" in members_page.text
    invitee = unique("mia")
    sent = alice.form(
        f"/orgs/{made.org.id}/invitations",
        {"email": invitee, "role": "member", "send_email": "1"},
        csrf=csrf_in(members_page.text),
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("notice=invitation_sent")
    [(recipients, message)] = inbox[0].messages
    assert recipients == [invitee]
    assert message["To"] == invitee and message["From"] == "ChatGrid <noreply@chatgrid.test>"
    assert message["Subject"] == f"{made.user.email} invited you to Mailers on ChatGrid"
    body = message.get_payload(decode=True).decode()
    link = re.search(r"http://testserver(/join/cgi_\S+)", body)
    assert link is not None
    # The admin never saw the link.
    assert link.group(1) not in "".join(alice.seen)
    mia = Browser(TestClient(app, follow_redirects=False))
    join = mia.get(link.group(1))
    assert join.status_code == 200 and invitee in join.text
    accepted = mia.form(link.group(1), {"password": PASSWORD}, csrf=csrf_in(join.text))
    assert accepted.status_code == 303
    assert mia.get(f"/orgs/{made.org.id}").status_code == 200
    audit = [e.action for e in ctx.audit.entries(made.org.id, AuditFilter(action="invitation."))]
    assert audit == ["invitation.accepted", "invitation.sent"]


def test_the_api_can_ask_for_a_link_instead(
    mail_context: AppContext, inbox: tuple[Inbox, int]
) -> None:
    ctx = mail_context
    made = accounts.sign_up(
        ctx, email=unique("alice"), password=PASSWORD, org_name="Linkers", client=CLIENT
    )
    alice = Browser(TestClient(create_web_app(ctx), follow_redirects=False))
    alice.sign_in(made.user.email)
    url = f"/api/orgs/{made.org.id}/invitations"
    emailed = alice.api("POST", url, {"email": unique("n"), "send_email": True}).json()
    assert emailed["emailed"] is True and emailed["url"] is None
    linked = alice.api("POST", url, {"email": unique("o"), "send_email": False}).json()
    assert linked["emailed"] is False and linked["url"].startswith("http://testserver/join/cgi_")
    assert len(inbox[0].messages) == 1


def test_an_unreachable_smtp_server_is_told_plainly(
    tmp_path: Path, postgres_database: str | None
) -> None:
    ctx = open_context(
        tmp_path / "data",
        postgres_database,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_starttls=False,
        public_url="http://testserver",
        smtp_timeout_seconds=2,
    )
    try:
        made = accounts.sign_up(
            ctx, email=unique("alice"), password=PASSWORD, org_name="NoMail", client=CLIENT
        )
        alice = Browser(TestClient(create_web_app(ctx), follow_redirects=False))
        alice.sign_in(made.user.email)
        response = alice.api("POST", f"/api/orgs/{made.org.id}/invitations", {"email": unique("p")})
        assert response.status_code == 502
        assert "could not be sent" in response.json()["error"]["message"]
        assert alice.api("GET", f"/api/orgs/{made.org.id}/invitations").json() == []
    finally:
        ctx.close()
