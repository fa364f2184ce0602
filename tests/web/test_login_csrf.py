"""Login CSRF: a pre-session token the server signs, and cookies a neighbour cannot plant.

An attacker who can set a cookie in the victim's browser (a sibling
subdomain, a plain-http page on the same host) used to pick a ``cg_csrf``
value and send the same value as the header, signing the victim in to the
attacker's account. Now the token must be the server's HMAC of the
pre-session id, and over https only ``__Host-`` cookies are read.
"""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.support.console import PASSWORD, Browser, World, csrf_in

PLANTED = "attacker-chosen-value-0123456789abcdef"


def post_session(browser: Browser, email: str, token: str) -> int:
    response = browser.client.post(
        "/api/session", json={"email": email, "password": PASSWORD}, headers={"X-CSRF-Token": token}
    )
    return response.status_code


def test_sign_in_refuses_a_planted_cookie_with_a_matching_header(world: World) -> None:
    victim = world.browser()
    for name in ("cg_csrf", "cg_presession"):
        victim.client.cookies.set(name, PLANTED)
    assert post_session(victim, world.bob.email, PLANTED) == 403
    login = victim.client.post(
        "/login", data={"email": world.bob.email, "password": PASSWORD, "csrf_token": PLANTED}
    )
    assert login.status_code == 403
    assert "cg_session" not in victim.client.cookies


def test_a_token_works_only_with_the_pre_session_it_was_made_for(world: World) -> None:
    first, second = world.browser(), world.browser()
    first_token = first.get("/api/csrf").json()["csrf_token"]
    second_token = second.get("/api/csrf").json()["csrf_token"]
    assert first_token != second_token
    assert first.client.cookies.get("cg_presession") != first_token  # not a double submit
    assert post_session(second, world.bob.email, first_token) == 403
    assert post_session(second, world.bob.email, second_token) == 200
    # The page's hidden field is bound the same way.
    page = first.get("/login")
    assert csrf_in(page.text) == first_token


def test_over_https_only_host_prefixed_cookies_count(world: World) -> None:
    # A pair the attacker got honestly in their own browser...
    own = world.browser()
    token = own.get("/api/csrf").json()["csrf_token"]
    presession = own.client.cookies.get("cg_presession")
    assert presession is not None
    # ...planted without the prefix (all a neighbour can do) is ignored over https.
    victim = Browser(TestClient(world.app, base_url="https://testserver", follow_redirects=False))
    victim.client.cookies.set("cg_presession", presession)
    assert post_session(victim, world.bob.email, token) == 403
    # The victim's own pre-session works, and every cookie set is __Host-: Secure, Path=/.
    fresh = victim.get("/api/csrf")
    assert fresh.headers["set-cookie"].startswith("__Host-cg_presession=")
    response = victim.client.post(
        "/api/session",
        json={"email": world.bob.email, "password": PASSWORD},
        headers={"X-CSRF-Token": fresh.json()["csrf_token"]},
    )
    assert response.status_code == 200
    cookies = response.headers.get_list("set-cookie")
    names = {c.split("=", 1)[0] for c in cookies}
    assert {"__Host-cg_session", "__Host-cg_device", "__Host-cg_presession"} <= names
    for cookie in cookies:
        flags = cookie.lower()
        assert "secure" in flags and "path=/" in flags and "domain=" not in flags
    # A plain-named session cookie is not read over https either.
    session_id = victim.client.cookies.get("__Host-cg_session")
    assert session_id is not None
    plain = Browser(TestClient(world.app, base_url="https://testserver", follow_redirects=False))
    plain.client.cookies.set("cg_session", session_id)
    assert plain.get("/api/session").status_code == 401


def test_local_http_keeps_working_with_plain_cookies(world: World) -> None:
    browser = world.browser()  # http://testserver, no https public URL
    browser.sign_in(world.bob.email)
    assert browser.client.cookies.get("cg_session") and browser.client.cookies.get("cg_device")
    assert browser.get("/api/session").status_code == 200
