"""The console under test: browsers that keep cookies and CSRF tokens, and the personas.

alice owns org A, bob is a plain member of A, dave is a member of A that
tests act on, and charlie owns org B. Each persona signs in through the
API, as a browser would, and keeps its cookie and CSRF token. The fixtures
that build them live in ``tests/web/conftest.py``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update
from starlette.testclient import TestClient

from chatgrid.admin import accounts, billing, members, people
from chatgrid.admin.signin import ClientInfo
from chatgrid.audit import Actor
from chatgrid.billing.plans import DEFAULT_PLAN_ID
from chatgrid.billing.seats import Month
from chatgrid.context import AppContext
from chatgrid.identity.models import Role
from chatgrid.identity.passwords import hash_password
from chatgrid.store.migrate import upgrade_to_head
from chatgrid.store.tables import orgs, seat_periods
from chatgrid.web import create_web_app
from tests.support.deployment import make_settings
from tests.support.usage_rows import entry, write

PASSWORD = "correct horse battery staple"


CLIENT = ClientInfo(addr="203.0.113.7", user_agent="pytest-console")


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_in(page: str) -> str:
    match = CSRF_FIELD.search(page)
    assert match, "no CSRF field on the page"
    return match.group(1)


class Browser:
    """One person's browser: cookies, the session's CSRF token, and every answer it got."""

    def __init__(self, client: httpx.Client | TestClient) -> None:
        self.client = client
        self.csrf: str | None = None
        self.seen: list[str] = []

    def _keep(self, response: httpx.Response) -> httpx.Response:
        self.seen.append(response.text)
        self.seen.append(str(response.headers))
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._keep(self.client.get(url, **kwargs))

    def sign_in(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        token = self.get("/api/csrf").json()["csrf_token"]
        response = self._keep(
            self.client.post(
                "/api/session",
                json={"email": email, "password": password},
                headers={"X-CSRF-Token": token},
            )
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        self.csrf = body["csrf_token"]
        return body

    def api(
        self, method: str, url: str, json: Any = None, *, csrf: str | bool | None = True
    ) -> httpx.Response:
        headers = {}
        token = self.csrf if csrf is True else csrf
        if token:
            headers["X-CSRF-Token"] = str(token)
        return self._keep(self.client.request(method, url, json=json, headers=headers))

    def form(
        self, url: str, data: dict[str, Any] | None = None, *, csrf: str | bool | None = True
    ) -> httpx.Response:
        fields = dict(data or {})
        token = self.csrf if csrf is True else csrf
        if token:
            fields["csrf_token"] = token
        return self._keep(self.client.post(url, data=fields))


@dataclass
class Persona:
    email: str
    user_id: str
    member_id: str | None
    browser: Browser


@dataclass
class World:
    ctx: AppContext
    app: FastAPI
    org_a: str
    org_b: str
    alice: Persona
    bob: Persona
    charlie: Persona
    dave: Persona
    ids: dict[str, str] = field(default_factory=dict)

    def browser(self) -> Browser:
        return Browser(TestClient(self.app, follow_redirects=False))


def open_context(data_dir: Path, database_url: str | None, **overrides: Any) -> AppContext:
    settings = make_settings(data_dir, database_url).model_copy(update=overrides)
    ctx = AppContext.open(settings)
    upgrade_to_head(ctx.engine)
    ctx.prices.seed_defaults()
    return ctx


def add_user(ctx: AppContext, org_id: str, email: str, role: Role) -> tuple[str, str]:
    """A member with a console password (as if they had accepted an invitation)."""
    member = people.add_member(ctx, org_id, email, role)
    ctx.accounts.set_password(member.user_id, hash_password(PASSWORD))
    return member.user_id, member.id


def unique(name: str) -> str:
    return f"{name}-{secrets.token_hex(3)}@example.com"


def build_world(ctx: AppContext) -> World:
    app = create_web_app(ctx)
    a = accounts.sign_up(
        ctx,
        email=unique("alice"),
        password=PASSWORD,
        org_name=f"Acme {secrets.token_hex(3)}",
        client=CLIENT,
    )
    b = accounts.sign_up(
        ctx,
        email=unique("charlie"),
        password=PASSWORD,
        org_name=f"Bolt {secrets.token_hex(3)}",
        client=CLIENT,
    )
    bob_email, dave_email = unique("bob"), unique("dave")
    bob_user, bob_member = add_user(ctx, a.org.id, bob_email, Role.MEMBER)
    dave_user, dave_member = add_user(ctx, a.org.id, dave_email, Role.MEMBER)

    def persona(email: str, user_id: str, member_id: str | None) -> Persona:
        browser = Browser(TestClient(app, follow_redirects=False))
        browser.sign_in(email)
        return Persona(email, user_id, member_id, browser)

    world = World(
        ctx=ctx,
        app=app,
        org_a=a.org.id,
        org_b=b.org.id,
        alice=persona(a.user.email, a.user.id, a.owner.id),
        bob=persona(bob_email, bob_user, bob_member),
        charlie=persona(b.user.email, b.user.id, b.owner.id),
        dave=persona(dave_email, dave_user, dave_member),
    )
    alice_token, _ = people.create_token(ctx, a.org.id, a.user.email)
    bob_token, _ = people.create_token(ctx, a.org.id, bob_email)
    dave_token, _ = people.create_token(ctx, a.org.id, dave_email)
    issued = members.invite(
        ctx,
        a.org,
        a.owner,
        Actor(a.user.id, a.user.email),
        email=unique("erin"),
        role=Role.MEMBER,
        link_base="http://testserver",
        mailer=None,
    )
    assert issued.link is not None
    world.ids.update(
        alice_token=alice_token.id,
        bob_token=bob_token.id,
        dave_token=dave_token.id,
        invitation=issued.invitation.id,
        invitation_token=issued.link.rsplit("/", 1)[1],
    )
    return world


def sign_in_operator(world: World) -> Browser:
    email = f"ops-{secrets.token_hex(3)}@example.com"
    accounts.create_operator(world.ctx, email, PASSWORD)
    ops = world.browser()
    ops.sign_in(email)
    return ops


@dataclass(frozen=True)
class Draft:
    ordinal: int
    text: str
    heading: str | None = None
    page: int | None = None


def add_passage(
    world: World, org_id: str, owner_member_id: str | None, text: str, *, page: int | None = 3
) -> tuple[str, str]:
    """A one-chunk document in a new collection (org-wide or private); its ids."""
    documents = world.ctx.documents
    collection = documents.create_collection(org_id, "Handbook", owner_member_id)
    uploader = owner_member_id or str(world.alice.member_id)
    document = documents.add_document(
        org_id, collection.id, uploader, "handbook.pdf", "application/pdf", b"%PDF-1.4"
    )
    (chunk_id,) = documents.start_chunks(
        org_id, document.id, [Draft(0, text, "Launch procedures", page)], pages=page
    )
    return document.id, chunk_id


def seed_chat_objects(world: World) -> None:
    """Ids a plain member (bob) may read: his conversation and an org-wide passage."""
    if "chunk" in world.ids:
        return
    conversation = world.ctx.conversations.create(
        world.org_a, str(world.bob.member_id), "Rota questions", None
    )
    document_id, chunk_id = add_passage(world, world.org_a, None, "Crews sign the logbook.")
    document = world.ctx.documents.document(world.org_a, document_id)
    assert document is not None
    world.ids.update(
        conversation=conversation.id,
        document=document_id,
        chunk=chunk_id,
        collection=document.collection_id,
    )


def last_month() -> Month:
    return Month.of(Month.of(datetime.now(UTC)).start - timedelta(days=1))


def seed_invoice(world: World) -> str:
    """Org A on the default plan since before last month, with shared usage; its invoice."""
    if "period" in world.ids:
        return world.ids["period"]
    ctx, month = world.ctx, last_month()
    with ctx.engine.begin() as conn:
        conn.execute(
            update(orgs)
            .where(orgs.c.id == world.org_a)
            .values(plan_id=DEFAULT_PLAN_ID, trial_ends_at=None)
        )
        conn.execute(
            update(seat_periods)
            .where(seat_periods.c.org_id == world.org_a)
            .values(started_at=month.start - timedelta(days=3))
        )
    assert world.alice.member_id
    used = month.start + timedelta(days=2)
    write(
        ctx,
        [
            entry(world.org_a, world.alice.member_id, used, mode="shared", charged=12_000),
            entry(world.org_a, world.alice.member_id, used, model="gpt-4o", mode="shared"),
        ],
    )
    invoice = billing.issue_invoice(ctx, world.org_a, str(month), actor=Actor.cli())
    world.ids["period"] = invoice.period
    return invoice.period
