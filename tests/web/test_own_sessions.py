"""A member sees where their account is signed in and ends any of those sessions."""

from __future__ import annotations

from starlette.testclient import TestClient

from chatgrid.audit import AuditFilter
from tests.support.console import Browser, World

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def browser_with(world: World, agent: str) -> Browser:
    return Browser(TestClient(world.app, follow_redirects=False, headers={"user-agent": agent}))


def test_the_list_names_each_device_and_this_one(world: World) -> None:
    laptop, phone = browser_with(world, FIREFOX), browser_with(world, PHONE)
    laptop.sign_in(world.alice.email)
    phone.sign_in(world.alice.email)
    listed = laptop.api("GET", "/api/account/sessions")
    assert listed.status_code == 200
    sessions = listed.json()
    assert len(sessions) == 3  # the persona's own, the laptop, the phone
    assert sessions[0]["current"] and sessions[0]["device"] == "Firefox on Linux"
    assert sorted(s["device"] for s in sessions[1:]) == ["Safari on iPhone", "testclient"]
    assert all(s["address"] == "testclient" and s["id"].startswith("ses_") for s in sessions)
    page = laptop.get("/account").text
    assert "Firefox on Linux" in page and "this one" in page and "Safari on iPhone" in page
    # Somebody else's list is their own.
    assert len(world.bob.browser.api("GET", "/api/account/sessions").json()) == 1


def test_an_ended_session_stops_working_at_once(world: World) -> None:
    laptop, phone = browser_with(world, FIREFOX), browser_with(world, PHONE)
    laptop.sign_in(world.alice.email)
    phone.sign_in(world.alice.email)
    phone_id = next(
        s["id"]
        for s in laptop.api("GET", "/api/account/sessions").json()
        if s["device"] == "Safari on iPhone"
    )
    # Another account cannot end it, nor tell it exists.
    assert (
        world.charlie.browser.api("DELETE", f"/api/account/sessions/{phone_id}").status_code == 404
    )
    assert phone.api("GET", "/api/session").status_code == 200

    assert laptop.api("DELETE", f"/api/account/sessions/{phone_id}").status_code == 204
    assert phone.api("GET", "/api/session").status_code == 401
    assert phone.get(f"/orgs/{world.org_a}").status_code == 303
    assert laptop.api("DELETE", f"/api/account/sessions/{phone_id}").status_code == 404
    assert laptop.api("DELETE", "/api/account/sessions/ses_unknown").status_code == 404
    (ended,) = world.ctx.audit.entries(world.org_a, AuditFilter(action="session.ended"))
    assert ended.details == {"session": phone_id, "device": "Safari on iPhone"}


def test_ending_every_other_session_keeps_this_one(world: World) -> None:
    laptop, phone = browser_with(world, FIREFOX), browser_with(world, PHONE)
    laptop.sign_in(world.alice.email)
    phone.sign_in(world.alice.email)
    ended = laptop.api("DELETE", "/api/account/sessions")
    assert ended.status_code == 200 and ended.json() == {"ended": 2}
    assert phone.api("GET", "/api/session").status_code == 401
    assert world.alice.browser.api("GET", "/api/session").status_code == 401
    assert laptop.api("GET", "/api/session").status_code == 200
    assert [s["current"] for s in laptop.api("GET", "/api/account/sessions").json()] == [True]
    # Bob's sessions are his own business.
    assert world.bob.browser.api("GET", "/api/session").status_code == 200


def test_the_account_page_ends_sessions_too(world: World) -> None:
    laptop, phone = browser_with(world, FIREFOX), browser_with(world, PHONE)
    laptop.sign_in(world.alice.email)
    phone.sign_in(world.alice.email)
    phone_id = next(
        s["id"]
        for s in laptop.api("GET", "/api/account/sessions").json()
        if s["device"] == "Safari on iPhone"
    )
    page = laptop.get("/account").text
    assert f'action="/account/sessions/{phone_id}/end"' in page
    answer = laptop.form(f"/account/sessions/{phone_id}/end")
    assert (
        answer.status_code == 303 and answer.headers["location"] == "/account?notice=session_ended"
    )
    assert phone.api("GET", "/api/session").status_code == 401
    everyone = laptop.form("/account/sessions/end-others")
    assert everyone.status_code == 303
    assert world.alice.browser.api("GET", "/api/session").status_code == 401
    assert (
        "Every other session of your account has ended."
        in laptop.get(everyone.headers["location"]).text
    )
    assert laptop.form("/account/sessions/ses_0000/end").status_code == 404
