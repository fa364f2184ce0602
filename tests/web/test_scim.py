"""SCIM 2.0 over HTTP as Okta and Microsoft Entra ID call it, on the console app.

The request bodies follow the providers' published SCIM guides (Okta's
"SCIM 2.0 protocol reference", Microsoft's "Tutorial: develop a sample SCIM
endpoint" request examples).
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from chatgrid.admin import people, scim
from chatgrid.audit import Actor
from chatgrid.identity.scim import ERROR_SCHEMA, LIST_SCHEMA, PATCH_SCHEMA, USER_SCHEMA
from chatgrid.identity.tokens import hash_token
from chatgrid.store.types import utcnow
from tests.support.console import World
from tests.support.scim import SCIM, Idp, new_user
from tests.support.sso import new_domain, verified_domain


@pytest.fixture
def domain(world: World) -> str:
    name = new_domain()
    verified_domain(world.ctx, world.org_a, name)
    return name


def test_okta_sequence_creates_finds_deactivates_and_reactivates(world: World, domain: str) -> None:
    idp = Idp(world, world.org_a)
    email = f"pat@{domain}"
    # Okta first looks the person up, then creates them.
    empty = idp.call("GET", "/Users", filter=f'userName eq "{email}"', startIndex="1", count="100")
    assert empty.status_code == 200
    assert empty.headers["content-type"].startswith("application/scim+json")
    assert empty.json() == {
        "schemas": [LIST_SCHEMA],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }
    created = idp.call("POST", "/Users", new_user(email, "00u1okta"))
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["userName"] == email and user["active"] is True
    assert user["externalId"] == "00u1okta"
    member_id = user["id"]
    found = idp.call("GET", "/Users", filter=f'userName eq "{email.upper()}"')
    assert [r["id"] for r in found.json()["Resources"]] == [member_id]
    assert idp.call("GET", f"/Users/{member_id}").json()["userName"] == email

    _, secret = people.create_token(world.ctx, world.org_a, email)
    assert world.ctx.tokens.owner_of(hash_token(secret)) is not None
    deactivate = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "value": {"active": False}}],
    }
    off = idp.call("PATCH", f"/Users/{member_id}", deactivate)
    assert off.status_code == 200 and off.json()["active"] is False
    owner = world.ctx.tokens.owner_of(hash_token(secret))
    assert owner is not None and not owner.usable
    assert world.ctx.members.get(world.org_a, member_id).status == "removed"

    reactivate = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "value": {"active": True}}],
    }
    on = idp.call("PATCH", f"/Users/{member_id}", reactivate)
    assert on.status_code == 200 and on.json()["active"] is True
    periods = [
        p
        for p in world.ctx.billing.seat_periods(
            world.org_a, utcnow() - timedelta(days=1), utcnow() + timedelta(days=1)
        )
        if p.member_id == member_id
    ]
    assert len(periods) == 2
    assert periods[0].ended_at is not None and periods[1].ended_at is None
    actions = [
        e.action for e in world.ctx.audit.entries(world.org_a) if e.action.startswith("scim.")
    ]
    assert {"scim.user_created", "scim.user_deactivated", "scim.user_reactivated"} <= set(actions)


def test_entra_sequence_with_string_booleans_put_and_delete(world: World, domain: str) -> None:
    idp = Idp(world, world.org_a)
    email = f"sam@{domain}"
    # Entra ID probes with a random filter first, then looks the user up by userName.
    probe = idp.call("GET", "/Users", filter='userName eq "ab12cd34-5678-90ef-1234-567890abcdef"')
    assert probe.status_code == 200 and probe.json()["totalResults"] == 0
    created = idp.call("POST", "/Users", new_user(email, "5e1f-entra"))
    assert created.status_code == 201
    member_id = created.json()["id"]
    by_external = idp.call("GET", "/Users", filter='externalId eq "5e1f-entra"')
    assert [r["id"] for r in by_external.json()["Resources"]] == [member_id]
    entra_patch = {
        "schemas": [PATCH_SCHEMA],
        "Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Add", "path": "displayName", "value": "Sam Ng"},
        ],
    }
    off = idp.call("PATCH", f"/Users/{member_id}", entra_patch)
    assert off.status_code == 200 and off.json()["active"] is False
    put = idp.call("PUT", f"/Users/{member_id}", {**new_user(email, "5e1f-new"), "active": True})
    assert put.status_code == 200
    assert put.json()["active"] is True and put.json()["externalId"] == "5e1f-new"
    renamed = idp.call("PUT", f"/Users/{member_id}", new_user(f"other@{domain}", "x"))
    assert renamed.status_code == 400 and renamed.json()["scimType"] == "mutability"
    deleted = idp.call("DELETE", f"/Users/{member_id}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert world.ctx.members.get(world.org_a, member_id).status == "removed"
    assert idp.call("GET", f"/Users/{member_id}").json()["active"] is False
    actions = [e.action for e in world.ctx.audit.entries(world.org_a)]
    assert "scim.user_deleted" in actions


def test_pagination_counts_every_member_and_pages_them(world: World, domain: str) -> None:
    idp = Idp(world, world.org_a)
    for n in range(3):
        assert idp.call("POST", "/Users", new_user(f"p{n}@{domain}", f"ext-{n}")).status_code == 201
    everyone = idp.call("GET", "/Users").json()
    total = everyone["totalResults"]
    assert total == len(everyone["Resources"]) == 6  # alice, bob, dave and the three new
    second = idp.call("GET", "/Users", startIndex="2", count="2").json()
    assert second["totalResults"] == total and second["startIndex"] == 2
    assert [r["id"] for r in second["Resources"]] == [r["id"] for r in everyone["Resources"][1:3]]
    assert idp.call("GET", "/Users", count="0").json()["Resources"] == []


def _error(response: httpx.Response, status: int, scim_type: str | None = None) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA] and body["status"] == str(status)
    assert body.get("scimType") == scim_type
    return str(body["detail"])


def test_bad_requests_get_scim_errors_and_change_nothing(world: World, domain: str) -> None:
    idp = Idp(world, world.org_a)
    before = len(world.ctx.members.list(world.org_a))
    _error(idp.call("GET", "/Users", filter='name.givenName sw "A"'), 400, "invalidFilter")
    _error(idp.call("GET", "/Users", startIndex="one"), 400, "invalidValue")
    _error(idp.call("POST", "/Users", {"userName": "not-an-address"}), 400, "invalidValue")
    garbage = idp.client.post(
        SCIM + "/Users", content=b"{nope", headers={"Authorization": f"Bearer {idp.secret}"}
    )
    _error(garbage, 400, "invalidSyntax")
    _error(idp.call("PATCH", "/Users/mem_nobody", {"Operations": []}), 404)
    _error(idp.call("GET", "/Users/not-an-id"), 404)
    flip = {"Operations": [{"op": "replace", "path": "active", "value": "maybe"}]}
    _error(idp.call("PATCH", f"/Users/{world.dave.member_id}", flip), 400, "invalidValue")
    _error(idp.call("PATCH", f"/Users/{world.dave.member_id}", {"op": "x"}), 400, "invalidSyntax")
    email = f"twice@{domain}"
    assert idp.call("POST", "/Users", new_user(email, "t-1")).status_code == 201
    _error(idp.call("POST", "/Users", new_user(email, "t-2")), 409, "uniqueness")
    assert len(world.ctx.members.list(world.org_a)) == before + 1


def test_an_address_off_the_orgs_verified_domains_is_refused(world: World, domain: str) -> None:
    idp = Idp(world, world.org_a)
    unverified = new_domain("pending")
    world.ctx.domains.claim(world.org_a, unverified, "0" * 32, created_by="test", limit=50)
    other = new_domain("bolt")
    verified_domain(world.ctx, world.org_b, other)
    for address in (f"x@{unverified}", f"x@{other}", "x@gmail.com"):
        detail = _error(idp.call("POST", "/Users", new_user(address, address)), 400, "invalidValue")
        assert "not a verified domain" in detail
    assert world.ctx.accounts.find_user(f"x@{unverified}") is None


def test_auth_failures_and_cross_org_isolation(world: World, domain: str) -> None:
    idp_a = Idp(world, world.org_a)
    idp_b = Idp(world, world.org_b)
    created = idp_a.call("POST", "/Users", new_user(f"iso@{domain}", "iso"))
    member_id = created.json()["id"]
    # Org B's token sees none of org A's people, by id, by filter or by listing.
    _error(idp_b.call("GET", f"/Users/{member_id}"), 404)
    _error(idp_b.call("PATCH", f"/Users/{member_id}", {"Operations": []}), 404)
    _error(idp_b.call("DELETE", f"/Users/{member_id}"), 404)
    found = idp_b.call("GET", "/Users", filter=f'userName eq "iso@{domain}"').json()
    assert found["totalResults"] == 0
    listed = {r["userName"] for r in idp_b.call("GET", "/Users").json()["Resources"]}
    assert listed == {world.charlie.email}
    assert world.ctx.members.get(world.org_a, member_id).status == "active"

    client = world.browser().client
    for headers in (
        {},
        {"Authorization": "Bearer cgscim_not-a-real-token"},
        {"Authorization": f"Basic {idp_a.secret}"},
        {"Authorization": f"Bearer {idp_a.secret}x"},
    ):
        response = client.get(SCIM + "/Users", headers=headers)
        _error(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
    scim.revoke_token(world.ctx, world.ctx.orgs.by_id(world.org_a), Actor.cli(), idp_a.token_id)
    _error(idp_a.call("GET", "/Users"), 401)
    assert idp_b.call("GET", "/Users").status_code == 200


def test_discovery_endpoints(world: World) -> None:
    idp = Idp(world, world.org_a)
    config = idp.call("GET", "/ServiceProviderConfig").json()
    assert config["patch"]["supported"] is True and config["bulk"]["supported"] is False
    types = idp.call("GET", "/ResourceTypes").json()
    assert [t["endpoint"] for t in types["Resources"]] == ["/Users", "/Groups"]
    schemas = idp.call("GET", "/Schemas").json()
    assert schemas["Resources"][0]["id"] == USER_SCHEMA


def test_the_audit_names_the_scim_client_and_never_its_token(world: World, domain: str) -> None:
    idp = Idp(world, world.org_a)
    idp.call("POST", "/Users", new_user(f"aud@{domain}", "aud"))
    entries = [e for e in world.ctx.audit.entries(world.org_a) if e.action.startswith("scim.")]
    created = next(e for e in entries if e.action == "scim.user_created")
    assert created.actor_email == f"scim:{idp.secret[:14]}"
    assert {e.action for e in entries} >= {"scim.token_created", "scim.user_created"}
    assert all(idp.secret not in repr(e) for e in entries)


def test_the_provisioning_page_shows_a_new_token_once_and_revokes_it(world: World) -> None:
    alice = world.alice.browser
    url = f"/orgs/{world.org_a}/scim"
    page = alice.get(url)
    assert page.status_code == 200 and "/scim/v2" in page.text
    created = alice.form(f"{url}/tokens", {})
    match = re.search(r'id="scim-token">(cgscim_[^<]+)<', created.text)
    assert created.status_code == 200 and match
    secret = match.group(1)
    idp_call = world.browser().client.get(
        SCIM + "/Users", headers={"Authorization": f"Bearer {secret}"}
    )
    assert idp_call.status_code == 200
    again = alice.get(url)
    assert secret not in again.text and secret[:14] in again.text
    token_id = scim.list_tokens(world.ctx, world.ctx.orgs.by_id(world.org_a))[0].id
    revoked = alice.form(f"{url}/tokens/{token_id}/revoke", {})
    assert revoked.status_code == 303
    assert (
        world.browser()
        .client.get(SCIM + "/Users", headers={"Authorization": f"Bearer {secret}"})
        .status_code
        == 401
    )
    assert world.bob.browser.get(url).status_code == 403
