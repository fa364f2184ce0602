"""Two-step sign-in in tests: a clock the console reads, codes made from a seed, and
the steps a person takes (set it up, sign in with a code) through the JSON API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from chatgrid.identity import totp
from tests.support.console import PASSWORD, Browser

#: A fixed instant: no test depends on the time of day it runs at.
FIXED = datetime(2026, 11, 26, 12, 0, 10, tzinfo=UTC)


class Clock:
    """The console's clock for codes (``ConsoleState.clock``), moved by hand."""

    def __init__(self, now: datetime = FIXED) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, steps: int = 1) -> None:
        """On by whole TOTP steps: each step's code is a new one."""
        self.now += timedelta(seconds=totp.STEP_SECONDS * steps)


def code_at(secret: str, at: datetime) -> str:
    return totp.code_at_step(secret.replace(" ", ""), totp.time_step(at))


def set_up(browser: Browser, clock: Clock, password: str = PASSWORD) -> tuple[str, list[str]]:
    """Turn two-step sign-in on for the browser's account: its seed and recovery codes.

    The clock moves on a step, so the next code asked for is a fresh one.
    """
    started = browser.api("POST", "/api/account/second-factor/setup")
    assert started.status_code == 200, started.text
    secret: str = started.json()["secret"]
    confirmed = browser.api(
        "POST",
        "/api/account/second-factor/confirm",
        {"code": code_at(secret, clock.now), "current_password": password},
    )
    assert confirmed.status_code == 200, confirmed.text
    clock.tick()
    codes: list[str] = confirmed.json()["recovery_codes"]
    return secret, codes


def password_step(browser: Browser, email: str, password: str = PASSWORD) -> str:
    """Send the password; the answer must ask for a code. The pre-session CSRF token."""
    token: str = browser.get("/api/csrf").json()["csrf_token"]
    first = browser.client.post(
        "/api/session",
        json={"email": email, "password": password},
        headers={"X-CSRF-Token": token},
    )
    browser.seen.append(first.text)
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "second_factor_required"
    return token


def code_step(browser: Browser, token: str, code: str) -> httpx.Response:
    answer = browser.client.post(
        "/api/session/second-factor", json={"code": code}, headers={"X-CSRF-Token": token}
    )
    browser.seen.append(answer.text)
    if answer.status_code == 200:
        browser.csrf = answer.json()["csrf_token"]
    return answer


def sign_in_with_code(
    browser: Browser, email: str, code: str, password: str = PASSWORD
) -> dict[str, Any]:
    answer = code_step(browser, password_step(browser, email, password), code)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body
