"""The real client behind trusted proxies, and never an address a client chose."""

from __future__ import annotations

import ipaddress

import pytest

from chatgrid.gateway.forwarded import TrustedProxies
from chatgrid.settings import Settings

LB = "10.0.0.5"


def proxies(*networks: str, header: str = "x-forwarded-for") -> TrustedProxies:
    return TrustedProxies(
        [ipaddress.ip_network(n) for n in networks],
        header,  # type: ignore[arg-type]
    )


def xff(*values: str) -> list[tuple[bytes, bytes]]:
    return [(b"x-forwarded-for", v.encode()) for v in values]


def test_a_trusted_proxy_gives_the_hop_it_saw() -> None:
    assert proxies("10.0.0.0/8").client_of(LB, xff("203.0.113.9")) == "203.0.113.9"


def test_the_right_most_untrusted_hop_wins_whatever_the_client_prepends() -> None:
    chain = xff("1.2.3.4, 198.51.100.1", "203.0.113.9, 10.0.0.7")
    assert proxies("10.0.0.0/8").client_of(LB, chain) == "203.0.113.9"


def test_a_client_talking_directly_keeps_its_own_address() -> None:
    assert proxies("10.0.0.0/8").client_of("198.51.100.77", xff("1.2.3.4")) == "198.51.100.77"


def test_garbage_or_unknown_hops_stop_at_the_last_trusted_proxy() -> None:
    chain = xff("203.0.113.9, unknown, 10.0.0.7")
    assert proxies("10.0.0.0/8").client_of(LB, chain) == "10.0.0.7"
    assert proxies("10.0.0.0/8").client_of(LB, xff("<script>")) == LB


def test_all_hops_trusted_gives_the_left_most() -> None:
    assert proxies("10.0.0.0/8").client_of(LB, xff("10.1.1.1, 10.0.0.7")) == "10.1.1.1"


def test_ports_brackets_and_mapped_addresses_are_read() -> None:
    p = proxies("10.0.0.0/8", "::1/128")
    assert p.client_of(LB, xff("203.0.113.9:4711")) == "203.0.113.9"
    assert p.client_of(LB, xff("[2001:db8::1]:443")) == "2001:db8::1"
    assert p.client_of("::ffff:10.0.0.5", xff("203.0.113.9")) == "203.0.113.9"


def test_forwarded_is_read_only_when_it_is_the_configured_header() -> None:
    headers = [
        (b"forwarded", b'for=198.51.100.1;proto=https, for="[2001:db8::7]:80";by=10.0.0.5'),
        (b"x-forwarded-for", b"6.6.6.6"),
    ]
    assert proxies("10.0.0.0/8", header="forwarded").client_of(LB, headers) == "2001:db8::7"
    assert proxies("10.0.0.0/8").client_of(LB, headers) == "6.6.6.6"


def test_the_scope_is_rewritten_only_when_the_client_differs() -> None:
    p = proxies("10.0.0.0/8")
    scope = {"type": "http", "client": (LB, 5000), "headers": xff("203.0.113.9")}
    assert p.rewrite(scope)["client"] == ("203.0.113.9", 0)
    assert scope["client"] == (LB, 5000)  # the original is left alone
    plain = {"type": "http", "client": ("198.51.100.7", 5000), "headers": xff("1.2.3.4")}
    assert p.rewrite(plain) is plain


def test_the_setting_takes_addresses_and_cidrs_and_names_a_bad_entry() -> None:
    settings = Settings(trusted_proxies="10.0.0.0/8, 192.0.2.7 ,::1")
    assert settings.trusted_proxies == "10.0.0.0/8, 192.0.2.7/32, ::1/128"
    assert len(settings.trusted_proxy_networks) == 3
    assert Settings().trusted_proxy_networks == []
    with pytest.raises(ValueError, match=r"lb\.internal"):
        Settings(trusted_proxies="10.0.0.0/8, lb.internal")
