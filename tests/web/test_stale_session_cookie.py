"""A session cookie that no longer signs anyone in is cleared by the answer that refuses it,
under the name the browser uses: ``__Host-cg_session`` over https, ``cg_session`` over http."""

from __future__ import annotations

from starlette.testclient import TestClient

from chatgrid.identity.sessions import SESSION_COOKIE
from chatgrid.web.security import HOST_PREFIX
from tests.support.console import World


def cleared(set_cookies: list[str], name: str) -> bool:
    return any(c.startswith(f'{name}=""') and "max-age=0" in c.lower() for c in set_cookies)


def test_a_stale_session_is_cleared_over_https_too(world: World) -> None:
    name = HOST_PREFIX + SESSION_COOKIE
    browser = TestClient(world.app, base_url="https://testserver", follow_redirects=False)
    browser.cookies.set(name, "ended-long-ago")
    page = browser.get(f"/orgs/{world.org_a}")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert cleared(page.headers.get_list("set-cookie"), name)
    api = browser.get("/api/session")
    assert api.status_code == 401
    assert cleared(api.headers.get_list("set-cookie"), name)


def test_a_stale_session_is_cleared_over_http(world: World) -> None:
    browser = TestClient(world.app, follow_redirects=False)
    browser.cookies.set(SESSION_COOKIE, "ended-long-ago")
    page = browser.get(f"/orgs/{world.org_a}")
    assert page.status_code == 303
    assert cleared(page.headers.get_list("set-cookie"), SESSION_COOKIE)
