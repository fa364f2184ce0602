"""A running ``chatgrid serve`` verifying a domain keeps serving everyone else meanwhile.

The DNS server here holds the question until the test has been served by
the same process on other routes, then answers: the verification waited on
DNS in a worker thread, never on the event loop.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chatgrid.admin import accounts
from chatgrid.admin.signin import ClientInfo
from tests.support.console import PASSWORD, Browser
from tests.support.deployment import Deployment, deployment_with
from tests.support.dns_server import HeldDns, held_dns
from tests.support.processes import RunningProcess


@pytest.fixture
def held() -> Iterator[HeldDns]:
    with held_dns() as dns:
        yield dns


@pytest.fixture
def deployment(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess, held: HeldDns
) -> Iterator[Deployment]:
    env = {"CHATGRID_DNS_RESOLVER": held.address, "CHATGRID_DNS_TIMEOUT_SECONDS": "30"}
    yield from deployment_with(tmp_path, postgres_database, simulator, env)


def test_a_verification_waiting_on_dns_does_not_hold_up_the_server(
    deployment: Deployment, held: HeldDns
) -> None:
    email = f"owner-{secrets.token_hex(3)}@example.com"
    signed_up = accounts.sign_up(
        deployment.context,
        email=email,
        password=PASSWORD,
        org_name=f"Held {secrets.token_hex(3)}",
        client=ClientInfo(addr="203.0.113.8", user_agent="pytest"),
    )
    org = signed_up.org.id
    base = deployment.instance.base_url
    owner = Browser(httpx.Client(base_url=base, timeout=60))
    owner.sign_in(email)
    claim = owner.api("POST", f"/api/orgs/{org}/domains", {"domain": "held.example"}).json()

    answers: list[httpx.Response] = []
    waiting = threading.Thread(
        target=lambda: answers.append(
            owner.api("POST", f"/api/orgs/{org}/domains/{claim['id']}/verify")
        )
    )
    waiting.start()
    question, sender = held.next_question(timeout=30)
    assert str(question.q.qname).rstrip(".") == claim["record"]["name"]

    # The question is unanswered; the same server answers others meanwhile.
    assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
    other = Browser(httpx.Client(base_url=base, timeout=10))
    other.sign_in(email)
    listed = other.api("GET", f"/api/orgs/{org}/domains")
    assert listed.status_code == 200 and listed.json()[0]["status"] == "pending"
    assert waiting.is_alive() and answers == []

    held.answer(question, sender, claim["record"]["value"])
    waiting.join(timeout=60)
    assert len(answers) == 1 and answers[0].status_code == 200, answers
    assert answers[0].json()["status"] == "verified"
    assert deployment.context.domains.verified_owner("held.example") == org
