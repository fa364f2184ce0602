"""Signing in through an org's identity provider, against a real one (node's oidc-provider):
the email step, the provider's login, the callback, a member made just in time, and every
refusal that must hold whatever the provider or a third party sends back."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from chatgrid.audit import AuditFilter
from chatgrid.identity.models import Role
from tests.support.console import Browser, World
from tests.support.oidc_idp import OTHER_CLIENT_ID, OidcIdp, serve_idp, sign_in_at_idp
from tests.support.sso import (
    CALLBACK,
    connect_idp,
    email_step,
    new_domain,
    provider_url,
    verified_domain,
)


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcIdp]:
    yield from serve_idp(tmp_path_factory.mktemp("idp"), [CALLBACK])


@pytest.fixture
def acme(world: World, idp: OidcIdp) -> str:
    """Org A's verified domain, with SSO through the test provider."""
    domain = new_domain()
    verified_domain(world.ctx, world.org_a, domain)
    connect_idp(
        world.ctx, world.org_a, idp, groups_claim="groups", role_map={"cg-admins": Role.ADMIN}
    )
    return domain


def callback_path(url: str) -> str:
    assert url.startswith(CALLBACK), url
    return url.removeprefix("http://testserver")


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()


def through_idp(browser: Browser, email: str, login: str | None = None) -> str:
    """The email step, then the provider's login: the callback path it sends back."""
    return callback_path(
        sign_in_at_idp(provider_url(email_step(browser, email)), login or email, stop_at=CALLBACK)
    )


def refusal(browser: Browser, path: str) -> str:
    page = browser.get(path)
    assert page.status_code == 403, page.text[:500]
    assert "cg_session" not in page.headers.get("set-cookie", "")
    return page.text


def test_a_new_person_on_a_verified_domain_signs_in_and_becomes_a_member(
    world: World, idp: OidcIdp, acme: str
) -> None:
    email = f"pat@{acme}"
    idp.set_user(email, email=email, email_verified=True, groups=["cg-admins", "other"])
    browser = world.browser()
    answer = browser.get(through_idp(browser, email))
    assert answer.status_code == 303, answer.text[:500]
    assert answer.headers["location"] == f"/orgs/{world.org_a}"
    session = browser.get("/api/session").json()
    assert session["user"]["email"] == email
    member = world.ctx.members.find_by_email(world.org_a, email)
    assert member.role is Role.ADMIN  # the group's role, not the default
    actions = [e.action for e in world.ctx.audit.entries(world.org_a, AuditFilter(action="sso."))]
    assert "sso.provisioned" in actions and "sso.signin" in actions
    # A second sign-in finds the same person and makes nothing new.
    again = world.browser()
    assert again.get(through_idp(again, email)).status_code == 303
    assert len([m for m in world.ctx.members.list(world.org_a) if m.email == email]) == 1


def test_an_address_without_sso_gets_the_password_step(world: World, acme: str) -> None:
    page = email_step(world.browser(), world.bob.email)
    assert page.status_code == 200
    assert 'name="password"' in page.text and world.bob.email in page.text


def test_a_callback_with_another_state_or_in_another_browser_is_refused(
    world: World, idp: OidcIdp, acme: str
) -> None:
    browser = world.browser()
    path = through_idp(browser, f"sam@{acme}")
    assert "not started in this browser" in refusal(world.browser(), path)  # no cookie
    assert "unknown" in refusal(browser, with_query(path, state="forged-state-" + "x" * 30))
    # The forged attempts used nothing up: the real browser still finishes, once.
    assert browser.get(path).status_code == 303
    assert "Start again from the sign-in page" in refusal(browser, path)  # a replay


def test_a_token_with_another_nonce_is_refused(world: World, idp: OidcIdp, acme: str) -> None:
    browser = world.browser()
    url = with_query(provider_url(email_step(browser, f"kim@{acme}")), nonce="another-nonce")
    path = callback_path(sign_in_at_idp(url, f"kim@{acme}", stop_at=CALLBACK))
    assert "nonce does not match" in refusal(browser, path)


def test_a_token_issued_to_another_application_is_refused(
    world: World, idp: OidcIdp, acme: str
) -> None:
    browser = world.browser()
    path = through_idp(browser, f"lee@{acme}")
    idp.issue_next_token_to(OTHER_CLIENT_ID)
    assert "another application (audience)" in refusal(browser, path)
    assert world.ctx.accounts.find_user(f"lee@{acme}") is None


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"email_verified": False}, "did not confirm"),
        ({"email": "pat@unverified-elsewhere.example"}, "not a verified domain"),
        ({"email": "OTHER_ORG"}, "belongs to another organization"),
    ],
)
def test_an_address_the_org_cannot_vouch_for_is_refused(
    world: World, idp: OidcIdp, acme: str, claims: dict[str, object], expected: str
) -> None:
    login = f"ray-{len(expected)}@{acme}"
    if claims.get("email") == "OTHER_ORG":
        bolt = new_domain("bolt")
        verified_domain(world.ctx, world.org_b, bolt)
        claims = {"email": f"ray@{bolt}"}
    idp.set_user(login, **{"email": login, "email_verified": True, **claims})
    browser = world.browser()
    assert expected in refusal(browser, through_idp(browser, login))
    emails = {m.email for m in world.ctx.members.list(world.org_a)}
    assert login not in emails and str(claims.get("email")) not in emails
    failed = world.ctx.audit.entries(world.org_a, AuditFilter(action="sso.signin_failed"))
    assert failed and failed[0].details["code"].startswith("sso_")
