"""Claiming and verifying a domain: the admin functions against a DNS server the test runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from chatgrid.admin import domains
from chatgrid.audit import Actor, AuditFilter
from chatgrid.context import AppContext
from chatgrid.errors import ChatGridError, Conflict, InvalidRequest
from chatgrid.identity.dns_txt import DnsUnavailable
from chatgrid.identity.domains import MAX_DOMAINS_PER_ORG, DomainNotProven, EmailDomain
from chatgrid.identity.models import BillingMode
from tests.support.dns_server import RunningDns, dns_server, held_dns

ALICE = Actor(user_id="usr_alice", email="alice@example.com", client_addr="203.0.113.5")
CHARLIE = Actor(user_id="usr_charlie", email="charlie@example.net")


@pytest.fixture
def dns(context: AppContext) -> Iterator[RunningDns]:
    with dns_server() as running:
        context.settings = context.settings.model_copy(update={"dns_resolver": running.address})
        yield running


def publish(dns: RunningDns, claim: EmailDomain) -> None:
    dns.zone.publish(claim.record_name, claim.record_value)


def actions(ctx: AppContext, org_id: str) -> list[tuple[str, str | None, dict[str, object]]]:
    entries = ctx.audit.entries(org_id, AuditFilter(action="domain."))
    return [(e.action, e.actor_email, e.details) for e in reversed(entries)]


def test_a_claim_proven_by_its_record_is_verified_and_audited(
    context: AppContext, dns: RunningDns
) -> None:
    org = context.orgs.create("proven", BillingMode.BYOK).id
    claim = domains.add_domain(context, org, ALICE, "Example.COM.")
    assert claim.domain == "example.com" and claim.status == "pending"
    assert claim.record_name == "_chatgrid-challenge.example.com"
    publish(dns, claim)
    verified = domains.verify_domain(context, claim, ALICE)
    assert verified.verified and context.domains.verified_owner("example.com") == org
    assert domains.verify_domain(context, verified, ALICE) == verified  # no second look-up
    domains.remove_domain(context, verified, ALICE)
    assert context.domains.verified_owner("example.com") is None
    assert actions(context, org) == [
        ("domain.added", ALICE.email, {"domain": "example.com", "record": claim.record_name}),
        ("domain.verified", ALICE.email, {"domain": "example.com"}),
        ("domain.removed", ALICE.email, {"domain": "example.com", "was_verified": True}),
    ]


@pytest.mark.parametrize(
    ("published", "code"),
    [
        (None, "txt_record_missing"),
        ("chatgrid-domain-verification=" + "f" * 32, "txt_record_mismatch"),
    ],
)
def test_a_missing_or_wrong_record_is_refused_and_changes_nothing(
    context: AppContext, dns: RunningDns, published: str | None, code: str
) -> None:
    org = context.orgs.create(f"unproven-{code}", BillingMode.BYOK).id
    claim = domains.add_domain(context, org, ALICE, "unproven.example")
    if published is not None:
        dns.zone.publish(claim.record_name, published)
    with pytest.raises(DomainNotProven) as refused:
        domains.verify_domain(context, claim, ALICE)
    assert refused.value.code == code and refused.value.status == 400
    assert claim.record_name in refused.value.message
    assert not context.domains.get(org, claim.id).verified
    assert [a for a, _, _ in actions(context, org)] == ["domain.added"]


def test_the_record_at_the_domain_itself_does_not_count(
    context: AppContext, dns: RunningDns
) -> None:
    org = context.orgs.create("apex", BillingMode.BYOK).id
    claim = domains.add_domain(context, org, ALICE, "apex.example")
    dns.zone.publish("apex.example", claim.record_value)
    with pytest.raises(DomainNotProven, match="no TXT record found at _chatgrid-challenge"):
        domains.verify_domain(context, claim, ALICE)


def test_dns_that_does_not_answer_is_a_clear_refusal(context: AppContext) -> None:
    org = context.orgs.create("timeout", BillingMode.BYOK).id
    claim = domains.add_domain(context, org, ALICE, "slow.example")
    with held_dns() as silent:
        context.settings = context.settings.model_copy(
            update={"dns_resolver": silent.address, "dns_timeout_seconds": 0.5}
        )
        with pytest.raises(DnsUnavailable) as refused:
            domains.verify_domain(context, claim, ALICE)
    assert refused.value.status == 502
    assert "did not answer within 0.5 seconds" in refused.value.message
    assert not context.domains.get(org, claim.id).verified
    assert [a for a, _, _ in actions(context, org)] == ["domain.added"]


def test_a_domain_another_org_holds_is_refused_before_dns_is_asked(
    context: AppContext, dns: RunningDns
) -> None:
    a = context.orgs.create("holder", BillingMode.BYOK).id
    b = context.orgs.create("late", BillingMode.BYOK).id
    held = domains.add_domain(context, a, ALICE, "contested.example")
    publish(dns, held)
    domains.verify_domain(context, held, ALICE)
    late = domains.add_domain(context, b, CHARLIE, "contested.example")  # a claim is allowed
    dns.zone.publish(late.record_name, held.record_value, late.record_value)
    asked = len(dns.zone.asked)
    with pytest.raises(Conflict) as taken:
        domains.verify_domain(context, late, CHARLIE)
    assert taken.value.code == "domain_taken" and taken.value.status == 409
    assert "already verified by another organization" in taken.value.message
    assert len(dns.zone.asked) == asked
    assert context.domains.verified_owner("contested.example") == a
    domains.remove_domain(context, held, ALICE)  # the holder gives it up
    assert domains.verify_domain(context, late, CHARLIE).verified
    assert context.domains.verified_owner("contested.example") == b


def test_two_orgs_verifying_at_once_end_with_one_holder(
    context: AppContext, dns: RunningDns
) -> None:
    orgs = [context.orgs.create(f"racer-{n}", BillingMode.BYOK).id for n in range(4)]
    claims = [domains.add_domain(context, org, ALICE, "race.example") for org in orgs]
    dns.zone.publish(claims[0].record_name, *(c.record_value for c in claims))
    start = threading.Barrier(len(claims))
    outcomes: list[str] = []

    def verify(claim: EmailDomain) -> None:
        start.wait()
        try:
            domains.verify_domain(context, claim, ALICE)
            outcomes.append("verified")
        except ChatGridError as refused:
            outcomes.append(str(refused.code))

    threads = [threading.Thread(target=verify, args=(c,)) for c in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["domain_taken"] * 3 + ["verified"]
    holder = context.domains.verified_owner("race.example")
    assert holder in orgs
    assert [context.domains.get(o, c.id).verified for o, c in zip(orgs, claims, strict=True)] == [
        o == holder for o in orgs
    ]


def test_bad_names_and_repeated_claims_are_refused_before_anything_is_written(
    context: AppContext,
) -> None:
    org = context.orgs.create("careful", BillingMode.BYOK).id
    for typed in ("com", "*.example.com", "192.0.2.1", "co.uk"):
        with pytest.raises(InvalidRequest):
            domains.add_domain(context, org, ALICE, typed)
    domains.add_domain(context, org, ALICE, "bücher.example")
    with pytest.raises(Conflict, match="already claimed by this organization"):
        domains.add_domain(context, org, ALICE, "xn--bcher-kva.example")
    assert [c.domain for c in context.domains.list(org)] == ["xn--bcher-kva.example"]
    found = domains.find_domain(context, org, "BÜCHER.example.")
    assert found.display_name == "bücher.example"


def test_an_org_cannot_fill_the_table(context: AppContext) -> None:
    org = context.orgs.create("greedy", BillingMode.BYOK).id
    for n in range(MAX_DOMAINS_PER_ORG):
        domains.add_domain(context, org, ALICE, f"d{n}.example")
    with pytest.raises(Conflict, match=f"at most {MAX_DOMAINS_PER_ORG} domains"):
        domains.add_domain(context, org, ALICE, "one-more.example")
    assert len(context.domains.list(org)) == MAX_DOMAINS_PER_ORG
    assert len(actions(context, org)) == MAX_DOMAINS_PER_ORG
