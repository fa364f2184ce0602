"""SCIM Groups as Okta (group push) and Microsoft Entra ID send them; roles from the
org's single sign-on role map."""

from __future__ import annotations

from typing import Any

import pytest

from chatgrid.identity.models import Role
from chatgrid.identity.scim import ERROR_SCHEMA, GROUP_SCHEMA, PATCH_SCHEMA
from chatgrid.identity.sso import SsoProtocol
from chatgrid.store.sso import ConnectionDraft, SsoRepository
from tests.support.console import World
from tests.support.scim import Idp, new_user
from tests.support.sso import new_domain, verified_domain


@pytest.fixture
def people(world: World) -> tuple[Idp, list[str]]:
    domain = new_domain()
    verified_domain(world.ctx, world.org_a, domain)
    idp = Idp(world, world.org_a)
    ids = []
    for name in ("ann", "ben"):
        created = idp.call("POST", "/Users", new_user(f"{name}@{domain}", name))
        ids.append(created.json()["id"])
    return idp, ids


def _map_admins(world: World) -> None:
    repo = SsoRepository(world.ctx.engine)
    draft = ConnectionDraft(
        protocol=SsoProtocol.SAML,
        issuer="https://idp.example/saml",
        client_id=None,
        groups_claim="groups",
        role_map={"ChatGrid Admins": Role.ADMIN},
        default_role=Role.MEMBER,
        settings={},
    )
    repo.save(world.org_a, repo.new_connection_id(world.org_a), draft, None, "test")


def _role(world: World, member_id: str) -> Role:
    return world.ctx.members.get(world.org_a, member_id).role


def test_okta_group_push_creates_renames_and_replaces_members(
    world: World, people: tuple[Idp, list[str]]
) -> None:
    idp, (ann, ben) = people
    _map_admins(world)
    found = idp.call("GET", "/Groups", filter='displayName eq "ChatGrid Admins"')
    assert found.status_code == 200 and found.json()["totalResults"] == 0
    body: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "displayName": "ChatGrid Admins",
        "members": [{"value": ann, "display": "ann"}],
    }
    created = idp.call("POST", "/Groups", body)
    assert created.status_code == 201, created.text
    group = created.json()
    assert [m["value"] for m in group["members"]] == [ann]
    assert _role(world, ann) is Role.ADMIN and _role(world, ben) is Role.MEMBER
    # Okta's push: replace the member list and the name in one PATCH.
    push = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [
            {"op": "replace", "path": "members", "value": [{"value": ben}]},
            {"op": "replace", "value": {"id": group["id"], "displayName": "ChatGrid Admins"}},
        ],
    }
    assert idp.call("PATCH", f"/Groups/{group['id']}", push).status_code == 204
    assert _role(world, ann) is Role.MEMBER and _role(world, ben) is Role.ADMIN
    again = idp.call("GET", f"/Groups/{group['id']}").json()
    assert [m["value"] for m in again["members"]] == [ben]
    assert idp.call("DELETE", f"/Groups/{group['id']}").status_code == 204
    assert _role(world, ben) is Role.MEMBER
    assert idp.call("GET", f"/Groups/{group['id']}").status_code == 404
    actions = {e.action for e in world.ctx.audit.entries(world.org_a)}
    assert {"scim.group_created", "scim.group_changed", "scim.group_deleted"} <= actions
    assert "scim.role_changed" in actions


def test_entra_adds_and_removes_members_one_by_one(
    world: World, people: tuple[Idp, list[str]]
) -> None:
    idp, (ann, ben) = people
    created = idp.call("POST", "/Groups", {"displayName": "Sales", "externalId": "e-1"})
    group_id = created.json()["id"]
    add = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "Add", "path": "members", "value": [{"value": ann}, {"value": ben}]}],
    }
    assert idp.call("PATCH", f"/Groups/{group_id}", add).status_code == 204
    remove = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "Remove", "path": f'members[value eq "{ann}"]'}],
    }
    assert idp.call("PATCH", f"/Groups/{group_id}", remove).status_code == 204
    listed = idp.call("GET", "/Groups").json()
    assert [[m["value"] for m in g["members"]] for g in listed["Resources"]] == [[ben]]
    # No role map: roles stay as the console set them.
    assert _role(world, ann) is Role.MEMBER and _role(world, ben) is Role.MEMBER
    renamed = idp.call("PUT", f"/Groups/{group_id}", {"displayName": "Sales EU", "members": []})
    assert renamed.status_code == 200
    assert renamed.json()["displayName"] == "Sales EU" and renamed.json()["members"] == []


def test_group_errors(world: World, people: tuple[Idp, list[str]]) -> None:
    idp, (ann, _) = people
    other = Idp(world, world.org_b)
    group_id = idp.call("POST", "/Groups", {"displayName": "Ops"}).json()["id"]
    cases = [
        (idp.call("POST", "/Groups", {"displayName": "Ops"}), 409, "uniqueness"),
        (idp.call("POST", "/Groups", {"members": []}), 400, "invalidValue"),
        (
            idp.call("POST", "/Groups", {"displayName": "X", "members": [{"value": "mem_x"}]}),
            400,
            "invalidValue",
        ),
        (idp.call("GET", "/Groups", filter='userName eq "a@b.c"'), 400, "invalidFilter"),
        (
            idp.call("PATCH", f"/Groups/{group_id}", {"Operations": [{"op": "move"}]}),
            400,
            "invalidPath",
        ),
        (other.call("GET", f"/Groups/{group_id}"), 404, None),
        (other.call("PATCH", f"/Groups/{group_id}", {"Operations": []}), 404, None),
    ]
    for response, status, scim_type in cases:
        body = response.json()
        assert response.status_code == status, response.text
        assert body["schemas"] == [ERROR_SCHEMA] and body["status"] == str(status)
        assert body.get("scimType") == scim_type
    # Org B's users cannot be put into org A's group, nor A's into B's.
    b_group = other.call("POST", "/Groups", {"displayName": "B"}).json()["id"]
    add = {"Operations": [{"op": "add", "path": "members", "value": [{"value": ann}]}]}
    assert other.call("PATCH", f"/Groups/{b_group}", add).status_code == 400
