"""A signed-in member talking to a running ChatGrid over real HTTP, and SSE reading."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from chatgrid.admin import people
from chatgrid.identity.models import Role
from chatgrid.identity.passwords import hash_password
from tests.support.deployment import Deployment
from tests.support.waiting import wait_for

PASSWORD = "correct horse battery staple"


@dataclass
class Member:
    """One person's browser session on the deployment."""

    org_id: str
    member_id: str
    email: str
    client: httpx.Client
    csrf: str

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def conversation(self, title: str | None = None) -> str:
        response = self.api("POST", f"/api/orgs/{self.org_id}/conversations", json={"title": title})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def ask(self, conversation_id: str, content: str, **fields: Any) -> list[tuple[str, Any]]:
        """Send a message and read the whole answer's events."""
        body = {"content": content, "model": "gpt-4o-mini", **fields}
        url = f"/api/orgs/{self.org_id}/conversations/{conversation_id}/messages"
        with self.client.stream(
            "POST", url, json=body, headers={"X-CSRF-Token": self.csrf}
        ) as response:
            assert response.status_code == 200, response.read()
            return read_events(response.iter_bytes())

    def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        response = self.api("GET", f"/api/orgs/{self.org_id}/conversations/{conversation_id}")
        assert response.status_code == 200, response.text
        return list(response.json()["messages"])


def read_events(pieces: Any) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    buffer = b""
    for piece in pieces:
        buffer += piece
        while b"\n\n" in buffer:
            raw, buffer = buffer.split(b"\n\n", 1)
            events.append(parse_event(raw))
    return events


def parse_event(raw: bytes) -> tuple[str, Any]:
    name, data = "message", b""
    for line in raw.split(b"\n"):
        if line.startswith(b"event: "):
            name = line[7:].decode()
        elif line.startswith(b"data: "):
            data += line[6:]
    return name, orjson.loads(data)


def sign_in(deployment: Deployment, org_id: str, email: str) -> Member:
    client = httpx.Client(base_url=deployment.instance.base_url, timeout=30)
    token = client.get("/api/csrf").json()["csrf_token"]
    response = client.post(
        "/api/session",
        json={"email": email, "password": PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    member = deployment.context.members.find_by_email(org_id, email)
    return Member(org_id, member.id, email, client, body["csrf_token"])


def add_person(deployment: Deployment, org_id: str, role: Role = Role.MEMBER) -> Member:
    """A member with a console password, signed in."""
    email = f"{role.value}-{secrets.token_hex(4)}@example.com"
    member = people.add_member(deployment.context, org_id, email, role)
    deployment.context.accounts.set_password(member.user_id, hash_password(PASSWORD))
    return sign_in(deployment, org_id, email)


HANDBOOK = """# Employee handbook

## Travel

Book flights through the travel desk at least two weeks ahead. Economy class
is the rule for flights under six hours.

## Expenses

Expense reports are due on the fifth working day of each month. Receipts over
twenty-five euros must be attached as scans.
"""


def collection(member: Member, name: str = "Handbook", scope: str = "org") -> str:
    response = member.api(
        "POST", f"/api/orgs/{member.org_id}/collections", json={"name": name, "scope": scope}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def upload(
    member: Member, collection_id: str, name: str, data: bytes, kind: str = "text/markdown"
) -> Any:
    return member.api(
        "POST",
        f"/api/orgs/{member.org_id}/collections/{collection_id}/documents",
        files={"file": (name, data, kind)},
    )


def ready(member: Member, document_id: str) -> dict[str, Any]:
    def state() -> dict[str, Any] | None:
        body: dict[str, Any] = member.api(
            "GET", f"/api/orgs/{member.org_id}/documents/{document_id}"
        ).json()
        return body if body["status"] in ("ready", "failed") else None

    return dict(wait_for(state, timeout=30))
