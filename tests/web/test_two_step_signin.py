"""Two-step sign-in through the console's HTTP: set it up, sign in with a code, turn it off.

The console's clock is fixed (``tests.support.second_factor.Clock``) and moved by
whole 30-second steps, so which codes are valid never depends on when the test runs.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from chatgrid.audit import AuditEntry, AuditFilter
from chatgrid.store.tables import recovery_codes, second_factors
from tests.support.console import PASSWORD, World, csrf_in
from tests.support.second_factor import (
    Clock,
    code_at,
    code_step,
    password_step,
    set_up,
    sign_in_with_code,
)

SECRET_FIELD = re.compile(r'id="totp-secret" type="text" readonly value="([A-Z2-7 ]+)"')
RECOVERY_CODE = re.compile(r"<code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</code>")


@pytest.fixture
def clock(world: World) -> Clock:
    clock = Clock()
    world.app.state.console.clock = clock
    return clock


def entries(world: World, action: str) -> list[AuditEntry]:
    return world.ctx.audit.entries(world.org_a, AuditFilter(action=action))


def test_setting_it_up_in_the_console(world: World, clock: Clock) -> None:
    alice = world.alice.browser
    elsewhere = world.browser()
    elsewhere.sign_in(world.alice.email)
    account = alice.get("/account")
    assert "Set up two-step sign-in" in account.text
    assert alice.get("/account/two-step").status_code == 200

    setup = alice.form("/account/two-step/setup")
    assert setup.status_code == 200
    match = SECRET_FIELD.search(setup.text)
    assert match, setup.text
    secret = match.group(1)
    assert 'src="data:image/svg+xml' in setup.text and "otpauth://totp/" in setup.text

    wrong = alice.form(
        "/account/two-step/confirm", {"code": "000000", "current_password": PASSWORD}
    )
    assert wrong.status_code == 400 and "not the code the app shows" in wrong.text
    assert secret in wrong.text  # the same seed again, to try once more
    bad_password = alice.form(
        "/account/two-step/confirm",
        {"code": code_at(secret, clock.now), "current_password": "not the password"},
    )
    assert bad_password.status_code == 400 and "password is not right" in bad_password.text
    assert not world.ctx.second_factors.enabled(world.alice.user_id)

    done = alice.form(
        "/account/two-step/confirm",
        {"code": code_at(secret, clock.now), "current_password": PASSWORD},
    )
    assert done.status_code == 200
    codes = RECOVERY_CODE.findall(done.text)
    assert len(set(codes)) == 10
    assert world.ctx.second_factors.enabled(world.alice.user_id)

    # Her other session was opened with the password alone: it ended. This one goes on.
    assert elsewhere.api("GET", "/api/session").status_code == 401
    assert alice.api("GET", "/api/session").status_code == 200
    page = alice.get("/account").text
    assert "Set up two-step sign-in" not in page and ">10</span> of 10 recovery codes" in page
    (enabled,) = entries(world, "second_factor.enabled")
    assert enabled.details == {"sessions_ended": 1, "recovery_codes": 10}
    assert [e.details for e in entries(world, "second_factor.password_failed")] == [{}]

    # Neither the seed nor a code is stored in plain.
    with world.ctx.engine.connect() as conn:
        stored = [
            *conn.execute(select(second_factors)).all(),
            *conn.execute(select(recovery_codes)).all(),
        ]
    flat = repr(stored).encode()
    assert secret.replace(" ", "").encode() not in flat
    assert not any(c.replace("-", "").encode() in flat or c.encode() in flat for c in codes)


def test_the_password_alone_opens_no_session(world: World, clock: Clock) -> None:
    secret, _ = set_up(world.alice.browser, clock)
    stranger = world.browser()
    token = password_step(stranger, world.alice.email)
    assert "cg_session" not in stranger.client.cookies
    assert "cg_second_step" in stranger.client.cookies
    assert stranger.api("GET", "/api/session").status_code == 401
    assert stranger.get(f"/orgs/{world.org_a}").status_code == 303

    wrong = code_step(stranger, token, "123456")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "second_step_failed"
    (failed,) = entries(world, "signin.failed")
    assert failed.details == {"email": world.alice.email, "reason": "wrong_code"}

    right = code_step(stranger, token, code_at(secret, clock.now))
    assert right.status_code == 200
    assert right.json()["user"]["email"] == world.alice.email
    assert stranger.api("GET", "/api/session").status_code == 200
    assert "cg_second_step" not in stranger.client.cookies
    actions = [e.action for e in reversed(world.ctx.audit.entries(world.org_a))]
    assert actions[-3:] == ["signin.password_accepted", "signin.failed", "signin.succeeded"]
    assert entries(world, "signin.succeeded")[0].details == {"second_factor": "totp"}


def test_a_code_is_accepted_once(world: World, clock: Clock) -> None:
    secret, _ = set_up(world.alice.browser, clock)
    code = code_at(secret, clock.now)
    sign_in_with_code(world.browser(), world.alice.email, code)
    again = world.browser()
    replay = code_step(again, password_step(again, world.alice.email), code)
    assert replay.status_code == 401
    # The next step's code works, from the same pending step.
    clock.tick()
    token = password_step(again, world.alice.email)
    assert code_step(again, token, code_at(secret, clock.now)).status_code == 200


def test_a_recovery_code_signs_in_once(world: World, clock: Clock) -> None:
    _, codes = set_up(world.alice.browser, clock)
    body = sign_in_with_code(world.browser(), world.alice.email, codes[3].upper())
    assert body["user"]["email"] == world.alice.email
    (used,) = entries(world, "second_factor.recovery_code_used")
    assert used.details == {"left": 9}
    assert entries(world, "signin.succeeded")[0].details == {"second_factor": "recovery_code"}
    twice = world.browser()
    assert code_step(twice, password_step(twice, world.alice.email), codes[3]).status_code == 401
    status = world.alice.browser.api("GET", "/api/account/second-factor").json()
    assert status["enabled"] and status["recovery_codes_left"] == 9


def test_new_recovery_codes_replace_the_old_ones(world: World, clock: Clock) -> None:
    alice = world.alice.browser
    _, old = set_up(alice, clock)
    refused = alice.api(
        "POST", "/api/account/second-factor/recovery-codes", {"current_password": "wrong one"}
    )
    assert refused.status_code == 400
    made = alice.api(
        "POST", "/api/account/second-factor/recovery-codes", {"current_password": PASSWORD}
    )
    assert made.status_code == 200
    new = made.json()["recovery_codes"]
    assert len(new) == 10 and not set(new) & set(old)
    stale = world.browser()
    assert code_step(stale, password_step(stale, world.alice.email), old[0]).status_code == 401
    assert sign_in_with_code(world.browser(), world.alice.email, new[0])


def test_wrong_codes_are_throttled_but_the_owners_browser_is_not_locked_out(
    world: World, clock: Clock
) -> None:
    secret, _ = set_up(world.alice.browser, clock)
    owner = world.browser()  # the owner's own browser: it signed in here before
    sign_in_with_code(owner, world.alice.email, code_at(secret, clock.now))
    clock.tick()
    owner.api("DELETE", "/api/session")

    guesser = world.browser()
    token = password_step(guesser, world.alice.email)
    for guess in ("111111", "222222", "333333", "444444", "555555"):
        assert code_step(guesser, token, guess).status_code == 401
    # Five wrong codes end the pending step: the password must be entered again...
    late = code_step(guesser, token, code_at(secret, clock.now))
    assert late.status_code == 401 and late.json()["error"]["code"] == "second_step_expired"
    # ...and even then, from here, the right code waits for the window.
    throttled = code_step(guesser, password_step(guesser, world.alice.email), "666666")
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert entries(world, "signin.failed")[0].details["reason"] == "throttled"

    assert sign_in_with_code(owner, world.alice.email, code_at(secret, clock.now))


def test_a_late_second_step_is_refused(world: World, clock: Clock) -> None:
    secret, _ = set_up(world.alice.browser, clock)
    late = world.browser()
    token = password_step(late, world.alice.email)
    clock.tick(11)  # five and a half minutes
    answer = code_step(late, token, code_at(secret, clock.now))
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "second_step_expired"


def test_a_code_without_a_password_step_is_refused(world: World, clock: Clock) -> None:
    secret, _ = set_up(world.alice.browser, clock)
    stranger = world.browser()
    token = stranger.get("/api/csrf").json()["csrf_token"]
    stranger.client.cookies.set("cg_second_step", "x" * 43)
    answer = code_step(stranger, token, code_at(secret, clock.now))
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "second_step_expired"


def test_turning_it_off_takes_the_password_and_a_code(world: World, clock: Clock) -> None:
    alice = world.alice.browser
    secret, codes = set_up(alice, clock)
    off = "/api/account/second-factor/disable"
    wrong_password = alice.api("POST", off, {"current_password": "nope", "code": codes[0]})
    assert wrong_password.status_code == 400
    wrong_code = alice.api("POST", off, {"current_password": PASSWORD, "code": "000000"})
    assert wrong_code.status_code == 400 and wrong_code.json()["error"]["param"] == "code"
    right = alice.api(
        "POST", off, {"current_password": PASSWORD, "code": code_at(secret, clock.now)}
    )
    assert right.status_code == 204
    assert world.ctx.second_factors.recovery_codes_left(world.alice.user_id) == 0
    world.browser().sign_in(world.alice.email)  # the password alone again
    assert len(entries(world, "second_factor.disabled")) == 1


def test_the_sign_in_pages_ask_for_the_code(world: World, clock: Clock) -> None:
    secret, _ = set_up(world.alice.browser, clock)
    visitor = world.browser()
    login = visitor.get("/login?next=/orgs")
    fields = {"email": world.alice.email, "password": PASSWORD, "next": "/account"}
    answer = visitor.form("/login", fields, csrf=csrf_in(login.text))
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login/second-step?next=%2Faccount"
    page = visitor.get(answer.headers["location"])
    assert page.status_code == 200 and "authenticator app" in page.text
    token = csrf_in(page.text)
    wrong = visitor.form("/login/second-step", {"code": "999999", "next": "/account"}, csrf=token)
    assert wrong.status_code == 401 and "not right" in wrong.text
    done = visitor.form(
        "/login/second-step", {"code": code_at(secret, clock.now), "next": "/account"}, csrf=token
    )
    assert done.status_code == 303 and done.headers["location"] == "/account"
    assert visitor.get("/account").status_code == 200


def test_the_code_page_without_a_pending_step_goes_back_to_sign_in(world: World) -> None:
    visitor = world.browser()
    answer = visitor.get("/login/second-step?next=/orgs")
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=%2Forgs"


def test_an_invitation_accepted_with_the_password_asks_for_the_code(
    world: World, clock: Clock
) -> None:
    charlie = world.charlie.browser
    secret, _ = set_up(charlie, clock)
    issued = world.alice.browser.api(
        "POST",
        f"/api/orgs/{world.org_a}/invitations",
        {"email": world.charlie.email, "role": "member"},
    )
    assert issued.status_code == 201, issued.text
    link_token = issued.json()["url"].rsplit("/", 1)[1]
    visitor = world.browser()
    token = visitor.get("/api/csrf").json()["csrf_token"]
    accepted = visitor.client.post(
        "/api/invitations/accept",
        json={"token": link_token, "password": PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert accepted.status_code == 202, accepted.text
    assert visitor.api("GET", "/api/session").status_code == 401
    assert code_step(visitor, token, code_at(secret, clock.now)).status_code == 200
