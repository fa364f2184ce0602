"""One id per request: on the response, in its log lines, its ledger row and its audit entry."""

from __future__ import annotations

import json
import logging

import httpx

from chatgrid import request_ids
from chatgrid.audit import AuditFilter
from chatgrid.logs import JsonFormatter
from tests.support.console import PASSWORD, unique
from tests.support.deployment import Deployment

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "which request?"}]}


def _chat(deployment: Deployment, token: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{deployment.v1}/chat/completions",
        json={**CHAT, "messages": [{"role": "user", "content": headers.pop("text", "hi")}]},
        headers={"Authorization": f"Bearer {token}", **headers},
        timeout=30,
    )


def test_a_v1_call_keeps_a_valid_incoming_id_and_otherwise_answers_with_its_call_id(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    kept = _chat(deployment, org.token, **{"X-Request-Id": "trace-7f3a.b:1"})
    assert kept.status_code == 200, kept.text
    assert kept.headers["x-request-id"] == "trace-7f3a.b:1"
    ours = _chat(deployment, org.token)
    replaced = _chat(deployment, org.token, **{"X-Request-Id": "has spaces\tand tabs"})
    too_long = _chat(deployment, org.token, **{"X-Request-Id": "a" * 129})
    entries = {e["request_id"]: e for e in deployment.context.usage.entries(org.id)}
    assert entries["trace-7f3a.b:1"]["call_id"].startswith("call_")
    for response in (ours, replaced, too_long):
        request_id = response.headers["x-request-id"]
        assert request_id.startswith("call_")
        assert entries[request_id]["call_id"] == request_id  # one id, when none was given
    # A refusal before any call carries an id too.
    refused = httpx.post(f"{deployment.v1}/chat/completions", json=CHAT, timeout=30)
    assert refused.status_code == 401 and refused.headers["x-request-id"]


def test_the_id_is_in_the_log_lines_of_its_request(deployment: Deployment) -> None:
    org = deployment.new_org()
    rejected = _chat(deployment, org.token, text="[sim:401] hi", **{"X-Request-Id": "rq-key-401"})
    assert rejected.status_code in (401, 403, 502), rejected.text
    log = deployment.instance.server.log_path.read_text()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == "rq-key-401"]
    assert mine, "no log line carries the request's id"
    assert all("rq-key-401" not in line["message"] for line in mine)


def test_the_console_answers_with_the_id_and_audits_with_it(deployment: Deployment) -> None:
    client = httpx.Client(base_url=deployment.instance.base_url, timeout=30)
    fresh = client.get("/api/csrf")
    assert fresh.headers["x-request-id"].startswith("req_")
    token = fresh.json()["csrf_token"]
    email = unique("nobody")
    refused = client.post(
        "/api/session",
        json={"email": email, "password": PASSWORD},
        headers={"X-CSRF-Token": token, "X-Request-Id": "signin-42"},
    )
    assert refused.headers["x-request-id"] == "signin-42"
    entries = deployment.context.audit.entries(None, AuditFilter(action="signin.failed"))
    [entry] = [e for e in entries if e.details.get("email") == email]
    assert entry.request_id == "signin-42"
    health = client.get("/healthz", headers={"X-Request-Id": "probe-1"})
    assert health.headers["x-request-id"] == "probe-1"


def test_an_incoming_id_is_kept_only_when_it_is_safe() -> None:
    assert request_ids.incoming(b"abc-123_X.y:z") == "abc-123_X.y:z"
    for bad in (None, b"", b"a b", b"a\r\nSet-Cookie: x", b"\xc3\xa9", b"a" * 129):
        assert request_ids.incoming(bad) is None
    assert request_ids.new_request_id().startswith("req_")


def test_log_lines_carry_the_id_of_the_request_being_served() -> None:
    record = logging.LogRecord("chatgrid.test", logging.INFO, __file__, 1, "hello", None, None)
    assert "request_id" not in json.loads(JsonFormatter().format(record))
    token = request_ids.CURRENT.set("req_abc")
    try:
        assert json.loads(JsonFormatter().format(record))["request_id"] == "req_abc"
    finally:
        request_ids.CURRENT.reset(token)
