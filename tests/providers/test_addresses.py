"""Upstream hosts are judged as aiohttp will connect to them, embedded IPv4 included."""

from __future__ import annotations

import ipaddress

import pytest

from chatgrid.errors import InvalidRequest
from chatgrid.providers.addresses import (
    client_host,
    embedded_ipv4,
    is_private_address,
    literal_address,
    private_host,
)
from chatgrid.providers.base import check_base_url

# Every one of these reaches a loopback, link-local or otherwise private address.
PRIVATE_URLS = [
    "http://127.0.0.1:8000/v1",
    "http://１２７.０.０.１:8000/v1",
    "http://127。0。0。1:8000/v1",
    "http://①②⑦.0.0.1:8000/v1",
    "http://１６９.２５４.１６９.２５４/latest",
    "http://[::1]/v1",
    "http://[::ffff:127.0.0.1]/v1",
    "http://[::ffff:7f00:1]/v1",
    "http://[::ffff:0:7f00:1]/v1",
    "http://[::127.0.0.1]/v1",
    "http://[64:ff9b::7f00:1]/v1",
    "http://[64:ff9b::a9fe:a9fe]/v1",
    "http://[64:ff9b:1::808:808]/v1",
    "http://[2002:7f00:1::]/v1",
    "http://[2002:a9fe:a9fe::1]/v1",
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/v1",
    "http://[fe80::1%25eth0]/v1",
    "http://127.1/v1",
    "http://0x7f.0.0.1/v1",
    "http://2130706433/v1",
    "http://0177.0.0.1/v1",
    "http://0.0.0.0/v1",
    "http://[::]/v1",
    "http://localhost:8000/v1",
    "http://LOCALHOST./v1",
    "http://ｌｏｃａｌｈｏｓｔ/v1",
    "http://api.localhost/v1",
    "http://100.64.0.1/v1",
    "http://224.0.0.1/v1",
]

PUBLIC_URLS = [
    "https://api.openai.com/v1",
    "http://8.8.8.8/v1",
    "http://[2606:4700::1111]/v1",
    "http://[::ffff:8.8.8.8]/v1",
    "http://[64:ff9b::808:808]/v1",
    "http://[2002:808:808::1]/v1",
    "https://my-resource.openai.azure.com",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_hosts_are_found_however_they_are_written(url: str) -> None:
    assert private_host(url) is not None


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_hosts_pass(url: str) -> None:
    assert private_host(url) is None


def test_the_host_is_read_as_the_http_client_reads_it() -> None:
    assert client_host("http://１２７.０.０.１:1/") == "127.0.0.1"
    assert client_host("http://127。0。0。1/") == "127.0.0.1"
    assert client_host("http://①②⑦.0.0.1/") == "127.0.0.1"
    assert client_host("http://[::127.0.0.1]/") == "::7f00:1"
    assert client_host("https://Bücher.Example/") == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("address", "carried"),
    [
        ("::ffff:7f00:1", "127.0.0.1"),  # IPv4-mapped
        ("::ffff:0:7f00:1", "127.0.0.1"),  # IPv4-translated
        ("::7f00:1", "127.0.0.1"),  # IPv4-compatible
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),  # NAT64
        ("2002:7f00:1::", "127.0.0.1"),  # 6to4
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "127.0.0.1"),  # Teredo client
    ],
)
def test_ipv6_forms_are_judged_by_the_ipv4_they_carry(address: str, carried: str) -> None:
    ip = ipaddress.IPv6Address(address)
    assert ipaddress.IPv4Address(carried) in embedded_ipv4(ip)
    assert is_private_address(ip)


def test_old_numeric_ipv4_forms_are_read_as_getaddrinfo_reads_them() -> None:
    for host in ("127.1", "0x7f.0.0.1", "2130706433", "0177.0.0.1"):
        assert literal_address(host) == ipaddress.IPv4Address("127.0.0.1")
    for name in ("cafe", "add.bad.cafe", "example.com", "127.0.0.1."):
        assert literal_address(name) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://１２７.０.０.１:8000/v1",
        "http://127。0。0。1:8000/v1",
        "http://①②⑦.0.0.1:8000/v1",
        "http://１６９.２５４.１６９.２５４/latest",
        "http://８.８.８.８/v1",
        "http://ｌｏｃａｌｈｏｓｔ/v1",
        "http://ａｐｉ.ｏｐｅｎａｉ.ｃｏｍ/v1",
        "http://ａpi.bücher.example/v1",
        "http://127.1/v1",
        "http://0x7f.0.0.1/v1",
        "http://2130706433/v1",
        "http://exa mple.com/v1",
        "http://a.test:99999/v1",
    ],
)
def test_hosts_that_hide_what_they_are_are_refused_when_saved(url: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_base_url(url)
    assert refused.value.param == "base_url"


def test_the_saved_url_is_the_one_the_client_sends() -> None:
    assert check_base_url("https://API.OpenAI.com:443/v1/") == "https://api.openai.com/v1"
    assert check_base_url("https://bücher.example/v1") == "https://xn--bcher-kva.example/v1"
    assert check_base_url("https://api.Bücher。example/v1") == (
        "https://api.xn--bcher-kva.example/v1"
    )
    assert check_base_url("http://[::127.0.0.1]:8/v1") == "http://[::7f00:1]:8/v1"
    assert check_base_url("http://localhost:8000/v1") == "http://localhost:8000/v1"
