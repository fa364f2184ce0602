"""Mailed links on a real ``chatgrid serve``: confirm an address, reset a password, then
search for the links' tokens and the passwords everywhere but the mailbox.

The server mails through a local SMTP server (aiosmtpd); its links name the
public URL, which the test maps onto the server it started.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.support.canary import assert_found_nowhere
from tests.support.console import unique
from tests.support.deployment import REDIS_URL, Deployment, database_text, deployment_with
from tests.support.mail import Inbox, as_env, link_in, mail_settings, running_inbox
from tests.support.processes import RunningProcess

PUBLIC_URL = "http://chatgrid.test"


@pytest.fixture
def mailing(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[tuple[Deployment, Inbox, str]]:
    prefix = f"cgtest-{secrets.token_hex(4)}"
    with running_inbox() as (inbox, port):
        settings = mail_settings(port, PUBLIC_URL)
        env = as_env(settings)
        env.update(CHATGRID_REDIS_URL=REDIS_URL, CHATGRID_REDIS_PREFIX=prefix)
        for deployment in deployment_with(
            tmp_path,
            postgres_database,
            simulator,
            env,
            redis_url=REDIS_URL,
            redis_prefix=prefix,
            **settings,
        ):
            yield deployment, inbox, prefix


class Caller:
    """A browser without a page: the pre-session token, and every answer kept."""

    def __init__(self, base_url: str, seen: list[str]) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.seen = seen

    def post(self, url: str, body: dict[str, Any], *, csrf: str | None = None) -> httpx.Response:
        token = csrf or self.http.get("/api/csrf").json()["csrf_token"]
        response = self.http.post(url, json=body, headers={"X-CSRF-Token": token})
        self.seen.extend([response.text, json.dumps(dict(response.headers))])
        return response


def test_mailed_links_and_passwords_leak_nowhere(
    mailing: tuple[Deployment, Inbox, str],
) -> None:
    deployment, inbox, prefix = mailing
    base = deployment.instance.base_url
    seen: list[str] = []
    email = unique("canary")
    first_password = f"Canary-first-{secrets.token_hex(8)}"
    new_password = f"Canary-reset-{secrets.token_hex(8)}"
    owner = Caller(base, seen)

    signed_up = owner.post(
        "/api/signup", {"email": email, "password": first_password, "org_name": "Canary Links"}
    )
    assert signed_up.status_code == 202 and signed_up.json()["status"] == "check_email"
    waiting = owner.post("/api/session", {"email": email, "password": first_password})
    assert waiting.status_code == 403 and waiting.json()["error"]["code"] == "email_not_verified"
    verify_token = link_in(inbox.last_to(email), PUBLIC_URL, "/email/verify/").rsplit("/", 1)[1]
    assert owner.post("/api/email/verify", {"token": verify_token}).status_code == 204
    assert owner.post("/api/email/verify", {"token": verify_token}).status_code == 410
    session = owner.post("/api/session", {"email": email, "password": first_password})
    assert session.status_code == 200

    stranger = Caller(base, seen)
    assert stranger.post("/api/password/forgot", {"email": email}).status_code == 202
    reset_path = link_in(inbox.last_to(email), PUBLIC_URL, "/password/reset/")
    reset_token = reset_path.rsplit("/", 1)[1]
    # The link's own page holds its token, as the email does: fetched, not searched.
    page = stranger.http.get(reset_path)
    assert page.status_code == 200 and email in page.text
    reset = stranger.post("/api/password/reset", {"token": reset_token, "password": new_password})
    assert reset.status_code == 204
    assert owner.http.get("/api/session").status_code == 401  # every session ended
    again = stranger.post("/api/password/reset", {"token": reset_token, "password": new_password})
    assert again.status_code == 410
    assert owner.post("/api/session", {"email": email, "password": new_password}).status_code == 200

    deployment.instance.stop()
    assert deployment.instance.server is not None
    store = redis.Redis.from_url(REDIS_URL)
    redis_dump = b"".join(
        key + repr(store.dump(key)).encode() for key in store.scan_iter(match=f"{prefix}*")
    )
    haystacks = {
        "what ChatGrid said": "\n".join(seen).encode(),
        "server log": deployment.instance.server.log_text().encode(),
        "database": database_text(deployment),
        "data dir": b"".join(
            p.read_bytes() for p in deployment.instance.data_dir.rglob("*") if p.is_file()
        ),
        "redis": redis_dump,
    }
    needles = {
        "confirmation token": verify_token[4:].encode(),
        "reset token": reset_token[4:].encode(),
        "first password": first_password.encode(),
        "new password": new_password.encode(),
    }
    assert_found_nowhere(haystacks, needles)
