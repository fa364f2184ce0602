"""Account takeover, tried as an attacker would: on a real server, with the operator's CLI.

- pre-hijack: sign up first as an address the operator is about to add;
- dormant claim: claim a removed, password-less member through another
  org's invitation, then wait for the operator to add the address back;
- targeted lockout: fail sign-ins for someone else's account from many
  addresses, hoping to shut the owner (or the operator) out.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
from starlette.testclient import TestClient

from chatgrid.admin import members, people
from chatgrid.audit import Actor
from chatgrid.identity.models import Role
from tests.support.console import PASSWORD, Browser, World, unique
from tests.support.deployment import Deployment

ATTACKER_PASSWORD = "attacker's own passphrase 9"


def cli(deployment: Deployment, *args: str) -> dict[str, Any]:
    result = deployment.instance.cli(*args)
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def live_browser(deployment: Deployment) -> Browser:
    return Browser(httpx.Client(base_url=deployment.instance.base_url, timeout=30))


def sign_up(browser: Browser, email: str, password: str, org_name: str) -> httpx.Response:
    token = browser.get("/api/csrf").json()["csrf_token"]
    return browser.client.post(
        "/api/signup",
        json={"email": email, "password": password, "org_name": org_name},
        headers={"X-CSRF-Token": token},
    )


def org_ids(browser: Browser) -> set[str]:
    return {m["org_id"] for m in browser.api("GET", "/api/orgs").json()}


def test_an_address_that_signed_up_first_is_invited_not_added(deployment: Deployment) -> None:
    ctx = deployment.context
    victim_org = cli(deployment, "org", "create", f"alpha-{secrets.token_hex(3)}")
    new_hire = unique("new.hire")
    attacker = live_browser(deployment)
    squat = sign_up(attacker, new_hire, ATTACKER_PASSWORD, f"Squat {secrets.token_hex(3)}")
    assert squat.is_success

    added = cli(deployment, "member", "add", victim_org["id"], new_hire, "--role", "admin")

    attacker.sign_in(new_hire, ATTACKER_PASSWORD)
    assert victim_org["id"] not in org_ids(attacker)
    assert attacker.api("GET", f"/api/orgs/{victim_org['id']}/members").status_code == 404
    user = ctx.accounts.find_user(new_hire)
    assert user is not None and ctx.accounts.membership(user.id, victim_org["id"]) is None
    assert added["status"] == "invited" and added["emailed"] is False
    assert added["link"].startswith("/join/cgi_") and "signing in" in added["message"]
    # The account's holder joins only by accepting the link while signed in as the address.
    preview = attacker.get(f"/api/invitations/{added['link'].rsplit('/', 1)[1]}").json()
    assert preview["needs"] == "join"


def test_an_address_without_an_account_is_still_added_directly(deployment: Deployment) -> None:
    org = cli(deployment, "org", "create", f"beta-{secrets.token_hex(3)}")
    added = cli(deployment, "member", "add", org["id"], unique("Fresh"), "--role", "member")
    assert added["status"] == "added" and added["id"].startswith("mem_")


def test_a_dormant_member_claimed_through_another_org_is_not_readmitted(
    deployment: Deployment,
) -> None:
    ctx = deployment.context
    alpha = cli(deployment, "org", "create", f"alpha-{secrets.token_hex(3)}")
    owner = people.add_member(ctx, alpha["id"], unique("owner"), Role.OWNER)
    dormant = unique("dormant")
    seat = cli(deployment, "member", "add", alpha["id"], dormant, "--role", "admin")
    assert seat["id"].startswith("mem_")  # no account yet: seated directly
    org = ctx.orgs.by_id(alpha["id"])
    members.remove_member(ctx, org, owner, Actor.cli(), seat["id"])  # their only org

    # A stranger runs an org of their own, invites the address and opens the link.
    attacker = live_browser(deployment)
    attacker_email = unique("mallory")
    assert sign_up(
        attacker, attacker_email, ATTACKER_PASSWORD, f"Evil {secrets.token_hex(3)}"
    ).is_success
    session = attacker.sign_in(attacker_email, ATTACKER_PASSWORD)
    evil = session["orgs"][0]["org_id"]
    invited = attacker.api(
        "POST",
        f"/api/orgs/{evil}/invitations",
        {"email": dormant, "role": "member", "send_email": False},
    )
    assert invited.status_code == 201, invited.text
    token = invited.json()["url"].rsplit("/", 1)[1]
    claimed = attacker.client.post(
        "/api/invitations/accept",
        json={"token": token, "password": ATTACKER_PASSWORD},
        headers={"X-CSRF-Token": str(attacker.csrf)},
    )
    assert claimed.status_code == 200, claimed.text  # the stranger now holds the address
    attacker.csrf = claimed.json()["csrf_token"]

    readded = cli(deployment, "member", "add", alpha["id"], dormant, "--role", "admin")

    assert alpha["id"] not in org_ids(attacker)
    fresh = live_browser(deployment)
    assert alpha["id"] not in {
        m["org_id"] for m in fresh.sign_in(dormant, ATTACKER_PASSWORD)["orgs"]
    }
    assert fresh.api("GET", f"/api/orgs/{alpha['id']}/members").status_code == 404
    assert ctx.members.get(alpha["id"], seat["id"]).status == "removed"
    assert readded["status"] == "invited"


def from_address(world: World, address: str) -> Browser:
    return Browser(TestClient(world.app, follow_redirects=False, client=(address, 40000)))


def sign_in_status(browser: Browser, email: str, password: str = PASSWORD) -> int:
    token = browser.get("/api/csrf").json()["csrf_token"]
    response = browser.client.post(
        "/api/session", json={"email": email, "password": password}, headers={"X-CSRF-Token": token}
    )
    return response.status_code


def test_failures_from_many_addresses_never_lock_the_owner_out(world: World) -> None:
    alice = world.alice.email
    owners_device = world.alice.browser.client.cookies.get("cg_device")  # from her sign-in
    for n in range(40):
        attacker = from_address(world, f"198.51.100.{n}")
        for _ in range(3):
            assert sign_in_status(attacker, alice, f"guess number {n}!") in {401, 429}
    # Strangers are held back now: 120 guesses spread over 40 addresses have run out...
    assert sign_in_status(from_address(world, "203.0.113.77"), alice) == 429
    # ...but a new browser at the address Alice usually signs in from gets in at once,
    assert sign_in_status(world.browser(), alice) == 200
    # and so does her own browser, from anywhere.
    assert owners_device, "a sign-in gives the browser a device cookie"
    travelling = from_address(world, "192.0.2.200")
    travelling.client.cookies.set("cg_device", owners_device)
    assert sign_in_status(travelling, alice) == 200
    # Her device cookie is hers: it does not open the door for a stranger at Bob's account.
    for n in range(25):
        sign_in_status(from_address(world, f"198.51.101.{n}"), world.bob.email, "guess guess")
    borrowed = from_address(world, "203.0.113.79")
    borrowed.client.cookies.set("cg_device", owners_device)
    assert sign_in_status(borrowed, world.bob.email) == 429


def test_five_failures_from_five_addresses_do_not_lock_out_the_operator(world: World) -> None:
    operator = people.create_operator(world.ctx, unique("ops"), PASSWORD)
    for n in range(5):
        assert (
            sign_in_status(from_address(world, f"198.51.100.{n}"), operator.email, "nope nope")
            == 401
        )
    # The operator, from a browser and address never seen before, still gets in.
    assert sign_in_status(from_address(world, "192.0.2.9"), operator.email) == 200
