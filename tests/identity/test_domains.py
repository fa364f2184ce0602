"""The rules of verified domains: one spelling per domain, what can never be claimed, the proof."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatgrid.errors import InvalidRequest
from chatgrid.identity.domains import (
    MAX_DOMAIN_LENGTH,
    DomainNotProven,
    EmailDomain,
    check_proof,
    display_domain,
    email_domain,
    new_challenge_token,
    normalize_domain,
    record_name,
    record_value,
)

CREATED = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def claim(domain: str = "example.com", token: str = "0" * 32) -> EmailDomain:
    return EmailDomain(
        id="dom_1",
        org_id="org_1",
        domain=domain,
        token=token,
        created_at=CREATED,
        created_by="alice@example.com",
        verified_at=None,
    )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("example.com", "example.com"),
        ("  Example.COM  ", "example.com"),
        ("example.com.", "example.com"),
        ("mail.Example.com", "mail.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("ＥＸＡＭＰＬＥ。com", "example.com"),  # full-width letters and dot
        ("example.co.uk", "example.co.uk"),
        ("alice.github.io", "alice.github.io"),
        ("corp.internal", "corp.internal"),
        ("a" * 63 + ".com", "a" * 63 + ".com"),
    ],
)
def test_every_spelling_of_a_domain_is_stored_one_way(typed: str, stored: str) -> None:
    assert normalize_domain(typed) == stored


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "like example.com"),
        ("   ", "like example.com"),
        ("com", "top-level domain"),
        ("localhost", "top-level domain"),
        ("co.uk", "public suffix"),
        ("github.io", "public suffix"),
        ("*.example.com", "wildcard"),
        ("mail.*.example.com", "wildcard"),
        ("127.0.0.1", "IP address"),
        ("[::1]", "IP address"),
        ("2001:db8::1", "IP address"),
        ("10.0.0.1.", "IP address"),
        ("127.1", "IP address"),
        ("app.localhost", "never be found"),
        ("example.invalid", "never be found"),
        ("alice@example.com", "not an email address"),
        ("https://example.com", "without https://"),
        ("example.com/path", "without https://"),
        ("exa mple.com", "not a valid domain"),
        ("ex_ample.com", "not a valid domain"),
        ("-example.com", "not a valid domain"),
        ("example..com", "not a valid domain"),
        ("a" * 64 + ".com", "not a valid domain"),
        ("example.com\x00", "like example.com"),
        ("example.com\n.evil.com", "like example.com"),
    ],
)
def test_what_cannot_be_proven_is_refused_with_its_reason(typed: str, reason: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        normalize_domain(typed)
    assert reason in refused.value.message
    assert refused.value.param == "domain" and refused.value.status == 400


def test_a_domain_leaves_room_for_its_challenge_name_in_dns() -> None:
    labels = ["a" * 63, "b" * 63, "c" * 63]
    longest = ".".join(labels) + "." + "d" * (MAX_DOMAIN_LENGTH - 3 * 64 - 4) + ".com"
    assert len(longest) == MAX_DOMAIN_LENGTH
    assert len(record_name(normalize_domain(longest))) == 253  # DNS's own limit
    with pytest.raises(InvalidRequest, match="at most 233 characters"):
        normalize_domain("e." + longest)


def test_the_record_to_publish_names_the_domain_and_carries_the_claims_token() -> None:
    token = new_challenge_token()
    assert len(token) == 32 and token != new_challenge_token()
    assert record_name("example.com") == "_chatgrid-challenge.example.com"
    assert record_value(token) == f"chatgrid-domain-verification={token}"
    c = claim(token=token)
    assert (c.record_name, c.record_value) == (record_name("example.com"), record_value(token))
    assert c.status == "pending" and not c.verified


def test_the_unicode_spelling_is_for_people() -> None:
    assert display_domain("xn--bcher-kva.example") == "bücher.example"
    assert claim("xn--bcher-kva.example").display_name == "bücher.example"
    assert display_domain("example.com") == "example.com"


@pytest.mark.parametrize(
    ("address", "domain"),
    [
        ("Dana@Example.COM", "example.com"),
        ("dana@bücher.example", "xn--bcher-kva.example"),
        ("odd@name@example.com", "example.com"),
        ("no-at-sign", None),
        ("dana@", None),
        ("dana@localhost", None),
    ],
)
def test_an_address_is_looked_up_by_its_normalized_domain(address: str, domain: str) -> None:
    assert email_domain(address) == domain


def test_the_claims_own_value_proves_it_as_a_dns_panel_may_have_stored_it() -> None:
    c = claim()
    check_proof(c, [c.record_value])
    check_proof(c, ["v=spf1 -all", f'  "{c.record_value}" '])


def test_no_record_says_where_to_publish_what() -> None:
    c = claim()
    with pytest.raises(DomainNotProven) as refused:
        check_proof(c, [])
    assert refused.value.code == "txt_record_missing"
    assert "no TXT record found at _chatgrid-challenge.example.com" in refused.value.message
    assert c.record_value in refused.value.message


def test_another_orgs_value_or_a_stale_one_proves_nothing() -> None:
    c = claim(token="a" * 32)
    other = record_value("b" * 32)
    with pytest.raises(DomainNotProven) as one:
        check_proof(c, [other])
    assert one.value.code == "txt_record_mismatch"
    assert "the TXT value found at _chatgrid-challenge.example.com is not" in one.value.message
    with pytest.raises(DomainNotProven) as two:
        check_proof(c, [other, c.record_value + "x", c.record_value[:-1]])
    assert "none of the 3 TXT values" in two.value.message
    assert other not in two.value.message  # values found are not echoed back
