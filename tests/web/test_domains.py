"""The domains page and /api/orgs/{org_id}/domains as org admins use them, with real DNS."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from chatgrid.audit import AuditFilter
from tests.support.console import World
from tests.support.dns_server import RunningDns, dns_server, held_dns


@pytest.fixture
def dns(world: World) -> Iterator[RunningDns]:
    with dns_server() as running:
        world.ctx.settings = world.ctx.settings.model_copy(update={"dns_resolver": running.address})
        yield running


def page(world: World) -> str:
    response = world.alice.browser.get(f"/orgs/{world.org_a}/domains")
    assert response.status_code == 200
    return html.unescape(response.text)


def test_an_admin_claims_publishes_and_verifies_a_domain_from_the_page(
    world: World, dns: RunningDns
) -> None:
    alice, org = world.alice.browser, world.org_a
    overview = alice.get(f"/orgs/{org}")
    assert f'href="/orgs/{org}/domains"' in overview.text  # in the admin's sidebar
    assert "No domains yet" in page(world)

    added = alice.form(f"/orgs/{org}/domains", {"domain": "Bücher.Example"})
    assert added.status_code == 303
    assert added.headers["location"] == f"/orgs/{org}/domains?notice=domain_added"
    shown = html.unescape(alice.get(added.headers["location"]).text)
    assert "Publish its TXT record" in shown
    claim = world.ctx.domains.find(org, "xn--bcher-kva.example")
    assert "bücher.example" in shown and "pending" in shown
    assert claim.record_name in shown and claim.record_value in shown

    early = alice.form(f"/orgs/{org}/domains/{claim.id}/verify")
    assert early.status_code == 400
    assert f"no TXT record found at {claim.record_name}" in html.unescape(early.text)
    assert not world.ctx.domains.get(org, claim.id).verified

    dns.zone.publish(claim.record_name, claim.record_value)
    verified = alice.form(f"/orgs/{org}/domains/{claim.id}/verify")
    assert verified.status_code == 303
    shown = html.unescape(alice.get(verified.headers["location"]).text)
    assert "The domain is verified" in shown and "verified" in shown
    assert f"/orgs/{org}/domains/{claim.id}/verify" not in shown  # nothing left to verify
    assert world.ctx.domains.verified_owner("xn--bcher-kva.example") == org

    removed = alice.form(f"/orgs/{org}/domains/{claim.id}/remove")
    assert removed.status_code == 303 and "notice=domain_removed" in removed.headers["location"]
    assert world.ctx.domains.verified_owner("xn--bcher-kva.example") is None
    entries = world.ctx.audit.entries(org, AuditFilter(action="domain."))
    assert [(e.action, e.actor_email) for e in reversed(entries)] == [
        ("domain.added", world.alice.email),
        ("domain.verified", world.alice.email),
        ("domain.removed", world.alice.email),
    ]
    assert entries[0].client_addr is not None


def test_a_refused_name_comes_back_on_the_form_with_its_reason(world: World) -> None:
    alice, org = world.alice.browser, world.org_a
    refused = alice.form(f"/orgs/{org}/domains", {"domain": "*.example.com"})
    assert refused.status_code == 400
    text = html.unescape(refused.text)
    assert "a wildcard cannot be verified" in text
    assert 'value="*.example.com"' in text and 'aria-invalid="true"' in text
    assert alice.form(f"/orgs/{org}/domains", {"domain": "co.uk"}).status_code == 400
    assert alice.form(f"/orgs/{org}/domains", {"domain": "x" * 1001}).status_code == 400
    assert world.ctx.domains.list(org) == []


def test_the_api_claims_lists_verifies_and_removes(world: World, dns: RunningDns) -> None:
    alice, org = world.alice.browser, world.org_a
    created = alice.api("POST", f"/api/orgs/{org}/domains", {"domain": "Example.COM."})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["domain"] == "example.com" and body["status"] == "pending"
    assert body["record"]["type"] == "TXT"
    assert body["record"]["name"] == "_chatgrid-challenge.example.com"
    assert re.fullmatch(r"chatgrid-domain-verification=[0-9a-f]{32}", body["record"]["value"])

    missing = alice.api("POST", f"/api/orgs/{org}/domains/{body['id']}/verify")
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "txt_record_missing"
    dns.zone.publish(body["record"]["name"], "chatgrid-domain-verification=" + "0" * 32)
    wrong = alice.api("POST", f"/api/orgs/{org}/domains/{body['id']}/verify")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "txt_record_mismatch"

    dns.zone.publish(body["record"]["name"], body["record"]["value"])
    verified = alice.api("POST", f"/api/orgs/{org}/domains/{body['id']}/verify")
    assert verified.status_code == 200 and verified.json()["status"] == "verified"
    listed = alice.api("GET", f"/api/orgs/{org}/domains").json()
    assert [(d["id"], d["status"]) for d in listed] == [(body["id"], "verified")]

    again = alice.api("POST", f"/api/orgs/{org}/domains", {"domain": "example.com"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "domain_claimed"
    bad = alice.api("POST", f"/api/orgs/{org}/domains", {"domain": "192.0.2.1"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "domain"
    typed = alice.api("POST", f"/api/orgs/{org}/domains", {"domain": 7})
    assert typed.status_code == 400

    assert alice.api("DELETE", f"/api/orgs/{org}/domains/{body['id']}").status_code == 204
    gone = alice.api("DELETE", f"/api/orgs/{org}/domains/{body['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "domain_not_found"


def test_another_org_cannot_verify_a_domain_that_is_held(world: World, dns: RunningDns) -> None:
    alice, charlie = world.alice.browser, world.charlie.browser
    mine = alice.api("POST", f"/api/orgs/{world.org_a}/domains", {"domain": "acme.example"}).json()
    dns.zone.publish(mine["record"]["name"], mine["record"]["value"])
    assert alice.api("POST", f"/api/orgs/{world.org_a}/domains/{mine['id']}/verify").is_success
    theirs = charlie.api("POST", f"/api/orgs/{world.org_b}/domains", {"domain": "acme.example"})
    assert theirs.status_code == 201  # claiming is allowed, holding it is not
    claim = theirs.json()
    dns.zone.publish(claim["record"]["name"], mine["record"]["value"], claim["record"]["value"])
    taken = charlie.api("POST", f"/api/orgs/{world.org_b}/domains/{claim['id']}/verify")
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "domain_taken"
    assert "already verified by another organization" in taken.json()["error"]["message"]
    form = charlie.form(f"/orgs/{world.org_b}/domains/{claim['id']}/verify")
    assert form.status_code == 409 and "another organization" in html.unescape(form.text)
    # Neither sees the other's claim: another org's id is the same 404 as none.
    assert charlie.api("DELETE", f"/api/orgs/{world.org_b}/domains/{mine['id']}").status_code == 404
    assert world.ctx.domains.verified_owner("acme.example") == world.org_a


def test_dns_that_does_not_answer_is_a_502_that_changes_nothing(world: World) -> None:
    alice, org = world.alice.browser, world.org_a
    claim = alice.api("POST", f"/api/orgs/{org}/domains", {"domain": "slow.example"}).json()
    with held_dns() as silent:
        world.ctx.settings = world.ctx.settings.model_copy(
            update={"dns_resolver": silent.address, "dns_timeout_seconds": 0.5}
        )
        api = alice.api("POST", f"/api/orgs/{org}/domains/{claim['id']}/verify")
        form = alice.form(f"/orgs/{org}/domains/{claim['id']}/verify")
    assert api.status_code == 502
    assert api.json()["error"] == {
        "message": "the DNS server did not answer within 0.5 seconds when asked for "
        "_chatgrid-challenge.slow.example; nothing was changed, try again in a moment",
        "type": "upstream_error",
        "param": None,
        "code": "dns_unavailable",
    }
    assert form.status_code == 502 and "did not answer within 0.5 seconds" in form.text
    assert alice.api("GET", f"/api/orgs/{org}/domains").json()[0]["status"] == "pending"


def test_a_plain_member_sees_no_domains_link_and_is_refused(world: World) -> None:
    bob = world.bob.browser
    overview = bob.get(f"/orgs/{world.org_a}")
    assert overview.status_code == 200 and "/domains" not in overview.text
    assert bob.get(f"/orgs/{world.org_a}/domains").status_code == 403
    answer = bob.api("POST", f"/api/orgs/{world.org_a}/domains", {"domain": "bob.example"})
    assert answer.status_code == 403
    assert world.ctx.domains.list(world.org_a) == []
