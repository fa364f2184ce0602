"""Whether an address has an account is never told: not by sign-up, an invitation, or sign-in."""

from __future__ import annotations

from typing import Any

import argon2
import pytest

from chatgrid.admin import members, people
from chatgrid.audit import Actor, AuditFilter
from chatgrid.identity.models import Role
from chatgrid.identity.passwords import hash_password
from tests.support.console import PASSWORD, Browser, World, csrf_in, unique

OTHER_PASSWORD = "a different passphrase 7"


def api_sign_up(browser: Browser, email: str, org_name: str) -> tuple[int, dict[str, Any], str]:
    token = browser.get("/api/csrf").json()["csrf_token"]
    response = browser.client.post(
        "/api/signup",
        json={"email": email, "password": OTHER_PASSWORD, "org_name": org_name},
        headers={"X-CSRF-Token": token},
    )
    body: dict[str, Any] = response.json()
    return response.status_code, body, response.headers.get("set-cookie", "")


def blanked(text: str, *values: str) -> str:
    for value in values:
        text = text.replace(value, "…")
    return text


def test_sign_up_answers_alike_for_a_new_and_a_known_address(world: World) -> None:
    new_email, known_email = unique("newcomer"), world.alice.email
    new = api_sign_up(world.browser(), new_email, "Newco One")
    known = api_sign_up(world.browser(), known_email, "Newco Two")

    assert new[0] == known[0] == 202
    assert new[1].keys() == known[1].keys() == {"status", "email", "org_name", "message"}
    assert blanked(str(new[1]), new_email, "Newco One") == blanked(
        str(known[1]), known_email, "Newco Two"
    )
    assert new[2] == known[2] == ""  # nobody is signed in by signing up
    # The known account is untouched: no org was made, the stranger's password opens nothing.
    assert all(o.name != "Newco Two" for o in world.ctx.orgs.list())
    orgs_of_alice = {m["org_id"] for m in world.browser().sign_in(known_email)["orgs"]}
    assert orgs_of_alice == {world.org_a}
    stranger = world.browser()
    token = stranger.get("/api/csrf").json()["csrf_token"]
    wrong = stranger.client.post(
        "/api/session",
        json={"email": known_email, "password": OTHER_PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert wrong.status_code == 401
    told = world.ctx.audit.entries(world.org_a, AuditFilter(action="signup.existing_account"))
    assert told and told[0].details["org_name"] == "Newco Two"
    # The new address signs in with the password it chose and finds its org.
    orgs = world.browser().sign_in(new_email, OTHER_PASSWORD)["orgs"]
    assert [m["org_name"] for m in orgs] == ["Newco One"]


def test_the_sign_up_page_answers_alike_for_a_new_and_a_known_address(world: World) -> None:
    pages = []
    for email, org in ((unique("pagecomer"), "Pageco One"), (world.charlie.email, "Pageco Two")):
        browser = world.browser()
        form = browser.get("/signup")
        response = browser.form(
            "/signup",
            {"email": email, "password": OTHER_PASSWORD, "org_name": org},
            csrf=csrf_in(form.text),
        )
        assert response.status_code == 200 and "cg_session" not in str(response.headers)
        pages.append(blanked(response.text, email, org, csrf_in(response.text)))
    assert pages[0] == pages[1]


def test_a_refused_sign_up_is_refused_alike_too(world: World) -> None:
    taken = world.ctx.orgs.by_id(world.org_a).name
    for email in (unique("nobody"), world.bob.email):
        status, body, _ = api_sign_up(world.browser(), email, taken)
        assert status == 409 and body["error"]["code"] == "org_exists"


def invite(world: World, email: str) -> str:
    ctx = world.ctx
    org = ctx.orgs.by_id(world.org_a)
    alice = ctx.members.get(world.org_a, str(world.alice.member_id))
    issued = members.invite(
        ctx,
        org,
        alice,
        Actor(alice.user_id, alice.email),
        email=email,
        role=Role.MEMBER,
        link_base="http://testserver",
        mailer=None,
    )
    assert issued.link is not None
    return issued.link.rsplit("/", 1)[1]


def test_an_invitation_preview_reads_the_same_for_every_address(world: World) -> None:
    ctx = world.ctx
    operator = people.create_operator(ctx, unique("ops"), PASSWORD)
    elsewhere = unique("cli-elsewhere")
    people.add_member(ctx, world.org_b, elsewhere, Role.MEMBER)  # no password, in org B
    addresses = [unique("brand-new"), world.charlie.email, operator.email, elsewhere]
    tokens = {email: invite(world, email) for email in addresses}
    stranger = world.browser()  # the inviter, say, opening the links they made
    previews, pages = [], []
    for email, token in tokens.items():
        preview = stranger.get(f"/api/invitations/{token}")
        assert preview.status_code == 200
        body = preview.json()
        assert body["needs"] == "password"
        previews.append(blanked(str({k: v for k, v in body.items() if k != "expires_at"}), email))
        page = stranger.get(f"/join/{token}")
        assert page.status_code == 200
        pages.append(
            blanked(page.text, email, token, str(body["expires_at"])[:16].replace("T", " "))
        )
    assert len(set(previews)) == 1
    assert len(set(pages)) == 1


class VerifySpy:
    """Records the hash each argon2 verification ran against (argon2's own verify runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.hashes: list[str] = []
        real = argon2.PasswordHasher.verify

        def verify(hasher: argon2.PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
            self.hashes.append(hash if isinstance(hash, str) else hash.decode())
            return real(hasher, hash, password)

        monkeypatch.setattr(argon2.PasswordHasher, "verify", verify)


def test_sign_in_does_the_same_argon2_work_whether_or_not_the_account_exists(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = world.ctx
    password_less = unique("cli-only")
    people.add_member(ctx, world.org_a, password_less, Role.MEMBER)
    real_hash = ctx.accounts.password_hash(world.bob.user_id)
    assert real_hash is not None
    spy = VerifySpy(monkeypatch)
    answers = []
    for email in (world.bob.email, unique("nobody-here"), password_less):
        browser = world.browser()
        token = browser.get("/api/csrf").json()["csrf_token"]
        response = browser.client.post(
            "/api/session",
            json={"email": email, "password": "not the password!"},
            headers={"X-CSRF-Token": token},
        )
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 401
    # One verification each: the real hash for bob, a dummy for the other two...
    assert len(spy.hashes) == 3 and spy.hashes[0] == real_hash
    dummy = spy.hashes[1]
    assert spy.hashes[2] == dummy != real_hash
    # ...made with the very parameters real passwords are hashed with, so it costs the same.
    today = argon2.extract_parameters(hash_password("any password at all"))
    assert argon2.extract_parameters(dummy) == argon2.extract_parameters(real_hash) == today
