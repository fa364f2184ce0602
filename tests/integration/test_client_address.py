"""The recorded client address on a real server, behind a trusted proxy and not.

The tests' connections come from 127.0.0.1. Trusting 127.0.0.1 makes the
test client a proxy whose ``X-Forwarded-For`` is believed (right-most hop);
trusting only 10.0.0.0/8 makes it a client talking directly, whose header
must change nothing. Both the ledger (the calls page) and the audit log
(a console sign-in) are checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatgrid.audit import AuditFilter
from tests.support.console import PASSWORD, Browser, unique
from tests.support.deployment import Deployment, deployment_with
from tests.support.processes import RunningProcess

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "where from?"}]}
FORWARDED = {"X-Forwarded-For": "1.2.3.4, 203.0.113.9"}


def _deployment(
    tmp_path: Path, database: str | None, simulator: RunningProcess, trusted: str
) -> Iterator[Deployment]:
    env = {"CHATGRID_TRUSTED_PROXIES": trusted}
    yield from deployment_with(tmp_path, database, simulator, env, trusted_proxies=trusted)


@pytest.fixture
def behind_proxy(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[Deployment]:
    yield from _deployment(tmp_path, postgres_database, simulator, "127.0.0.1")


@pytest.fixture
def direct(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[Deployment]:
    yield from _deployment(tmp_path, postgres_database, simulator, "10.0.0.0/8")


def _recorded(deployment: Deployment) -> tuple[str | None, str | None]:
    """(the ledger's client of a /v1 call, the audit log's client of a console sign-in)."""
    org = deployment.new_org()
    response = httpx.post(
        f"{deployment.v1}/chat/completions",
        json=CHAT,
        headers={"Authorization": f"Bearer {org.token}", **FORWARDED},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    [entry] = deployment.context.usage.entries(org.id)

    # A refused sign-in is audited with where it came from (and throttled by it).
    browser = Browser(
        httpx.Client(base_url=deployment.instance.base_url, headers=FORWARDED, timeout=30)
    )
    email = unique("nobody")
    token = browser.get("/api/csrf").json()["csrf_token"]
    refused = browser.client.post(
        "/api/session",
        json={"email": email, "password": PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert refused.status_code in (400, 401), refused.text
    [failed] = deployment.context.audit.entries(None, AuditFilter(action="signin.failed"))
    assert failed.details["email"] == email
    return entry["client_addr"], failed.client_addr


def test_behind_a_trusted_proxy_the_client_is_the_hop_the_proxy_saw(
    behind_proxy: Deployment,
) -> None:
    assert _recorded(behind_proxy) == ("203.0.113.9", "203.0.113.9")


def test_a_client_talking_directly_cannot_choose_its_address(direct: Deployment) -> None:
    assert _recorded(direct) == ("127.0.0.1", "127.0.0.1")
