"""TXT look-ups over the wire, against a DNS server the test starts (and one that never answers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from chatgrid.identity.dns_txt import DnsUnavailable, txt_values
from chatgrid.settings import Settings
from tests.support.dns_server import RunningDns, answered_over, dns_server, held_dns


@pytest.fixture
def dns() -> Iterator[RunningDns]:
    with dns_server() as running:
        yield running


def settings(resolver: str, timeout: float = 5.0) -> Settings:
    return Settings(dns_resolver=resolver, dns_timeout_seconds=timeout)


def test_every_txt_record_at_a_name_is_read(dns: RunningDns) -> None:
    dns.zone.publish("_chatgrid-challenge.example.com", "v=spf1 -all", ["chatgrid-", "value"])
    found = txt_values(settings(dns.address), "_chatgrid-challenge.example.com")
    assert sorted(found) == ["chatgrid-value", "v=spf1 -all"]  # a record's strings are joined
    assert answered_over(dns.zone, "_chatgrid-challenge.example.com") == ["udp"]


def test_a_name_without_records_reads_as_none(dns: RunningDns) -> None:
    dns.zone.publish("example.com", "only at the apex")
    assert txt_values(settings(dns.address), "_chatgrid-challenge.example.com") == []


def test_an_answer_too_long_for_udp_is_read_again_over_tcp(dns: RunningDns) -> None:
    values = [f"{n}-" + "x" * 240 for n in range(6)]
    dns.zone.publish("_chatgrid-challenge.big.example", *values)
    found = txt_values(settings(dns.address), "_chatgrid-challenge.big.example")
    assert sorted(found) == values
    assert answered_over(dns.zone, "_chatgrid-challenge.big.example") == ["udp", "tcp"]


def test_a_record_published_after_a_miss_is_seen_at_once(dns: RunningDns) -> None:
    name = "_chatgrid-challenge.later.example"
    ask = settings(dns.address)
    assert txt_values(ask, name) == []
    dns.zone.publish(name, "now")
    assert txt_values(ask, name) == ["now"]  # no negative answer kept in a cache


def test_a_server_failure_is_said_in_plain_words(dns: RunningDns) -> None:
    dns.zone.fail("_chatgrid-challenge.broken.example")
    with pytest.raises(DnsUnavailable) as failed:
        txt_values(settings(dns.address), "_chatgrid-challenge.broken.example")
    assert failed.value.status == 502 and failed.value.code == "dns_unavailable"
    assert "could not look up _chatgrid-challenge.broken.example" in failed.value.message
    assert "SERVFAIL" in failed.value.message
    assert "127.0.0.1" not in failed.value.message  # the resolver's address stays inside


def test_a_server_that_never_answers_is_given_up_after_the_timeout() -> None:
    with held_dns() as silent, pytest.raises(DnsUnavailable) as failed:
        txt_values(settings(silent.address, timeout=0.5), "_chatgrid-challenge.example.com")
    assert "did not answer within 0.5 seconds" in failed.value.message
    assert "_chatgrid-challenge.example.com" in failed.value.message


@pytest.mark.parametrize(
    ("typed", "address"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
        ("", None),
    ],
)
def test_the_resolver_setting_takes_an_address_and_an_optional_port(
    typed: str, address: tuple[str, int] | None
) -> None:
    assert Settings(dns_resolver=typed).dns_resolver_address == address


@pytest.mark.parametrize("typed", ["dns.example.com", "127.0.0.1:0", "127.0.0.1:99999", "[::1]x"])
def test_a_resolver_that_is_not_an_address_stops_the_start(typed: str) -> None:
    with pytest.raises(ValidationError, match="dns_resolver"):
        Settings(dns_resolver=typed)
