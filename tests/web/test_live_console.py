"""The console on a real ``chatgrid serve``, with the simulator as the upstream.

The key lifecycle through the admin API (connect, refusals told plainly,
rotate, a key the upstream rejects, revoke), sessions and tokens ending when
a member is removed, and canary secrets found nowhere afterwards.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
import pytest

from chatgrid.audit import AuditFilter
from tests.support.console import PASSWORD, Browser, csrf_in, unique
from tests.support.deployment import Deployment, database_text
from tests.support.processes import free_port

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


def browser(deployment: Deployment) -> Browser:
    return Browser(httpx.Client(base_url=deployment.instance.base_url, timeout=30))


def sign_up(deployment: Deployment, password: str = PASSWORD) -> tuple[Browser, str, str]:
    """A new org through the API; its owner's browser, the org id and the owner's email."""
    owner = browser(deployment)
    email = unique("owner")
    token = owner.get("/api/csrf").json()["csrf_token"]
    response = owner.client.post(
        "/api/signup",
        json={"email": email, "password": password, "org_name": f"Live {secrets.token_hex(4)}"},
        headers={"X-CSRF-Token": token},
    )
    owner.seen.append(response.text)
    assert response.status_code == 202, response.text
    session = owner.sign_in(email, password)  # signing up never signs in
    return owner, session["orgs"][0]["org_id"], email


def v1(deployment: Deployment, token: str) -> httpx.Response:
    return httpx.post(
        f"{deployment.v1}/chat/completions",
        json=CHAT,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def connect(
    owner: Browser, org: str, key: str, deployment: Deployment, **config: Any
) -> httpx.Response:
    body = {"provider": "openai", "base_url": f"{deployment.simulator.base_url}/v1"}
    body.update(config)
    body["api_key"] = key
    return owner.api("PUT", f"/api/orgs/{org}/credential", body)


def test_the_key_lifecycle_through_the_api(deployment: Deployment) -> None:
    sim = deployment.simulator.base_url
    owner, org, email = sign_up(deployment)
    member_token = owner.api("POST", f"/api/orgs/{org}/tokens", {"name": "sdk"}).json()["secret"]
    no_key = v1(deployment, member_token)
    assert no_key.status_code == 403

    good = f"sk-good-{secrets.token_hex(8)}"
    connected = connect(owner, org, good, deployment)
    assert connected.status_code == 200, connected.text
    key = connected.json()
    assert key["last4"] == good[-4:] and key["fingerprint"].startswith("fp_")
    assert key["created_by"] == email and key["status"] == "active"
    assert key["last_used_at"] is None and "gpt-4o-mini" in key["models"]
    assert v1(deployment, member_token).status_code == 200
    shown = owner.api("GET", f"/api/orgs/{org}/credential").json()
    assert shown["last_used_at"] is not None
    [call] = owner.api("GET", f"/api/orgs/{org}/calls").json()
    assert call["member_email"] == email and member_token.startswith(call["token_prefix"])
    assert call["client_addr"] == "127.0.0.1" and call["model"] == "gpt-4o-mini"
    assert call["upstream_request_id"] and call["outcome"] and call["status_code"] == 200
    calls_page = owner.get(f"/orgs/{org}/calls").text
    assert call["token_prefix"] in calls_page and call["upstream_request_id"] in calls_page
    overview = owner.api("GET", f"/api/orgs/{org}/overview").json()
    assert overview["usage_this_month"]["requests"] == 1 and overview["seats"] == 1
    assert overview["usage_this_month"]["list_cost_micros"] > 0

    # Refusals are told plainly, and the working key stays.
    refusals = [
        ("key_rejected", connect(owner, org, "sk-bad", deployment)),
        ("key_rejected", connect(owner, org, revoked_at_upstream(sim), deployment)),
        (
            "unreachable",
            connect(
                owner,
                org,
                "sk-whatever-123456",
                deployment,
                base_url=f"http://127.0.0.1:{free_port()}/v1",
            ),
        ),
        (
            "deployment_missing",
            connect(
                owner,
                org,
                "sk-azure-123456789",
                deployment,
                provider="azure",
                base_url=sim,
                deployments={"gpt-4o-mini": "no-such-deployment"},
            ),
        ),
    ]
    messages = {}
    for code, response in refusals:
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == code
        messages[code] = error["message"]
    assert "rejected the key" in messages["key_rejected"]
    assert "could not be reached" in messages["unreachable"]
    assert "no-such-deployment" in messages["deployment_missing"]
    assert (
        owner.api("GET", f"/api/orgs/{org}/credential").json()["fingerprint"]
        == (key["fingerprint"])
    )
    page = owner.get(f"/orgs/{org}/key")
    rejected = owner.form(
        f"/orgs/{org}/key",
        {"provider": "openai-compatible", "base_url": f"{sim}/v1", "api_key": "sk-bad"},
        csrf=csrf_in(page.text),
    )
    assert rejected.status_code == 400 and "rejected the key" in rejected.text

    # Rotate: paste a new key; new calls use it.
    rotated_key = f"sk-rotated-{secrets.token_hex(8)}"
    rotated = connect(owner, org, rotated_key, deployment)
    assert rotated.status_code == 200 and rotated.json()["fingerprint"] != key["fingerprint"]
    assert v1(deployment, member_token).status_code == 200
    used = [
        r["api_key"] for r in deployment.simulator_records() if r["path"].endswith("/completions")
    ]
    assert used[-1] == rotated_key

    # The upstream rejects the key: members are told, admins see a banner on every page.
    httpx.post(f"{sim}/_sim/keys/revoke", json={"key": rotated_key})
    broken_call = v1(deployment, member_token)
    assert broken_call.status_code == 403
    assert "ask an admin" in broken_call.json()["error"]["message"]
    assert owner.api("GET", f"/api/orgs/{org}/credential").json()["status"] == "broken"
    for path in ("", "/key", "/members", "/tokens", "/limits", "/audit", "/calls"):
        assert "upstream key was rejected" in owner.get(f"/orgs/{org}{path}").text, path

    # Revoke: refused at once.
    assert connect(owner, org, good, deployment).status_code == 200
    assert owner.api("DELETE", f"/api/orgs/{org}/credential").status_code == 204
    refused = v1(deployment, member_token)
    assert refused.status_code == 403 and "not connected" in refused.json()["error"]["message"]
    assert owner.api("GET", f"/api/orgs/{org}/credential").json() is None
    audit = [
        e.action for e in deployment.context.audit.entries(org, AuditFilter(action="credential."))
    ]
    assert audit.count("credential.rejected") == 5
    assert {"credential.connected", "credential.rotated", "credential.revoked"} <= set(audit)


def revoked_at_upstream(sim: str) -> str:
    key = f"sk-revoked-{secrets.token_hex(8)}"
    httpx.post(f"{sim}/_sim/keys/revoke", json={"key": key})
    return key


def test_removing_a_member_ends_their_session_and_tokens_on_the_server(
    deployment: Deployment,
) -> None:
    owner, org, _ = sign_up(deployment)
    assert connect(owner, org, f"sk-live-{secrets.token_hex(8)}", deployment).status_code == 200
    invite = owner.api("POST", f"/api/orgs/{org}/invitations", {"email": unique("bob")}).json()
    bob = browser(deployment)
    csrf = bob.get("/api/csrf").json()["csrf_token"]
    accepted = bob.client.post(
        "/api/invitations/accept",
        json={"token": invite["url"].rsplit("/", 1)[1], "password": PASSWORD},
        headers={"X-CSRF-Token": csrf},
    )
    assert accepted.status_code == 200, accepted.text
    bob.csrf = accepted.json()["csrf_token"]
    bob_token = bob.api("POST", f"/api/orgs/{org}/tokens", {}).json()["secret"]
    assert v1(deployment, bob_token).status_code == 200
    member_id = accepted.json()["orgs"][0]["member_id"]

    assert owner.api("DELETE", f"/api/orgs/{org}/members/{member_id}").status_code == 204
    assert v1(deployment, bob_token).status_code == 401
    assert bob.api("GET", "/api/session").status_code == 401
    assert bob.get(f"/orgs/{org}").status_code == 303


def test_sign_out_and_password_change_end_sessions_on_the_server(deployment: Deployment) -> None:
    owner, org, email = sign_up(deployment)
    second = browser(deployment)
    second.sign_in(email)
    changed = owner.api(
        "POST",
        "/api/account/password",
        {"current_password": PASSWORD, "new_password": "another long passphrase"},
    )
    assert changed.status_code == 200
    owner.csrf = changed.json()["csrf_token"]
    assert second.api("GET", "/api/session").status_code == 401
    assert owner.api("GET", f"/api/orgs/{org}").status_code == 200
    assert owner.api("DELETE", "/api/session").status_code == 204
    assert owner.api("GET", f"/api/orgs/{org}").status_code == 401


@pytest.mark.slow
def test_canary_password_key_and_token_leak_nowhere(deployment: Deployment) -> None:
    sim = deployment.simulator.base_url
    canary_password = f"canary pass {secrets.token_hex(8)}"
    canary_key = f"sk-canary-{secrets.token_hex(16)}"
    rejected_key = f"sk-canary-rejected-{secrets.token_hex(16)}"
    httpx.post(f"{sim}/_sim/keys/revoke", json={"key": rejected_key})
    owner, org, email = sign_up(deployment, canary_password)
    wrong = browser(deployment)
    csrf = wrong.get("/api/csrf").json()["csrf_token"]
    wrong.client.post(  # a failed sign-in with the canary as the password
        "/api/session",
        json={"email": unique("nobody"), "password": canary_password},
        headers={"X-CSRF-Token": csrf},
    )
    assert connect(owner, org, rejected_key, deployment).status_code == 400
    assert connect(owner, org, canary_key, deployment).status_code == 200
    created = owner.api("POST", f"/api/orgs/{org}/tokens", {"name": "canary"})
    canary_token = created.json()["secret"]
    owner.seen.remove(created.text)  # shown once, on purpose
    assert v1(deployment, canary_token).status_code == 200
    owner.api(
        "POST",
        "/api/account/password",
        {
            "current_password": canary_password,
            "new_password": canary_password + " 2",
        },
    )
    relogged = browser(deployment)
    relogged.sign_in(email, canary_password + " 2")
    for path in (
        "",
        "/key",
        "/members",
        "/tokens",
        "/limits",
        "/audit",
        "/calls",
        "/audit.csv",
        "/calls.csv",
    ):
        relogged.get(f"/orgs/{org}{path}")
    for path in ("overview", "credential", "members", "tokens", "policy", "audit", "calls"):
        relogged.api("GET", f"/api/orgs/{org}/{path}")

    said = "\n".join(owner.seen + wrong.seen + relogged.seen)
    audit = json.dumps(
        [e.__dict__ for e in deployment.context.audit.entries(org, AuditFilter(limit=5000))]
        + [e.__dict__ for e in deployment.context.audit.entries(None, AuditFilter(limit=5000))],
        default=str,
    )
    assert '"signin.failed"' in audit and "credential.rejected" in audit  # the scenario ran
    logs = deployment.instance.server.log_text() if deployment.instance.server else ""
    stored = database_text(deployment)
    for canary in (canary_password, canary_key, rejected_key, canary_token):
        assert canary not in said
        assert canary not in audit
        assert canary not in logs
    for canary in (canary_password, canary_key, rejected_key, canary_token):
        assert canary.encode() not in stored
