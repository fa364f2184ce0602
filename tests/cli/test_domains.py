"""`chatgrid domain add|verify|list|remove` as the operator runs them, against a real DNS server.

One journey runs the real command in its own process; the refusals run the
same commands in-process (Typer's runner), which is the same code without
the interpreter's start-up for each call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_runner import Cli
from tests.support.deployment import settings_env
from tests.support.dns_server import RunningDns, dns_server, held_dns
from tests.support.processes import ChatGridInstance, instance_env


@pytest.fixture
def dns() -> Iterator[RunningDns]:
    with dns_server() as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, postgres_database: str | None, dns: RunningDns) -> dict[str, str]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    values = settings_env(data_dir, postgres_database)
    values["CHATGRID_DNS_RESOLVER"] = dns.address
    return values


def test_a_domain_is_claimed_published_verified_listed_and_removed(
    env: dict[str, str], dns: RunningDns
) -> None:
    admin = ChatGridInstance(env=instance_env(env), data_dir=Path(env["CHATGRID_DATA_DIR"]))

    def run(*args: str) -> tuple[int, str, str]:
        result = admin.cli(*args)
        return result.returncode, result.stdout, result.stderr

    assert run("org", "create", "dns-co")[0] == 0
    code, out, _ = run("domain", "add", "dns-co", "Bücher.Example.")
    claim = json.loads(out)
    assert code == 0 and claim["domain"] == "xn--bcher-kva.example"
    assert claim["display_name"] == "bücher.example" and claim["status"] == "pending"
    record = claim["record"]
    assert record["type"] == "TXT" and record["name"] == "_chatgrid-challenge.xn--bcher-kva.example"
    assert record["value"].startswith("chatgrid-domain-verification=")

    code, out, err = run("domain", "verify", "dns-co", "bücher.example")
    assert (code, out) == (1, "")
    assert err == (
        f'error: no TXT record found at {record["name"]}: publish TXT "{record["value"]}" there, '
        "wait for DNS to show it (minutes, or up to the record's TTL), then verify again\n"
    )
    dns.zone.publish(record["name"], record["value"])
    code, out, _ = run("domain", "verify", "dns-co", "xn--bcher-kva.example")
    verified = json.loads(out)
    assert code == 0 and verified["status"] == "verified" and verified["verified_at"]
    assert verified["record"] == record

    code, out, _ = run("domain", "list", "dns-co")
    assert [(d["domain"], d["status"]) for d in json.loads(out)] == [
        ("xn--bcher-kva.example", "verified")
    ]
    code, out, _ = run("domain", "remove", "dns-co", "bücher.example")
    assert json.loads(out) == {
        "id": claim["id"],
        "domain": "xn--bcher-kva.example",
        "removed": True,
    }


def test_a_domain_verified_by_one_org_is_refused_to_another(
    env: dict[str, str], dns: RunningDns
) -> None:
    cli = Cli(env)
    for org in ("first-co", "second-co"):
        cli.ok("org", "create", org)
    first = cli.ok("domain", "add", "first-co", "example.com")
    second = cli.ok("domain", "add", "second-co", "example.com")
    dns.zone.publish(first["record"]["name"], first["record"]["value"], second["record"]["value"])
    cli.ok("domain", "verify", "first-co", "example.com")
    taken = cli.refused("domain", "verify", "second-co", "example.com")
    assert "example.com is already verified by another organization" in taken
    assert cli.ok("domain", "list", "second-co")[0]["status"] == "pending"
    # The operator frees it on the holder's behalf; then the other org's proof counts.
    cli.ok("domain", "remove", "first-co", "example.com")
    assert cli.ok("domain", "verify", "second-co", "example.com")["status"] == "verified"


def test_refusals_are_plain_messages(env: dict[str, str], dns: RunningDns) -> None:
    cli = Cli(env)
    cli.ok("org", "create", "plain-co")
    assert "public suffix" in cli.refused("domain", "add", "plain-co", "co.uk")
    assert "wildcard" in cli.refused("domain", "add", "plain-co", "*.example.com")
    assert "IP address" in cli.refused("domain", "add", "plain-co", "192.0.2.10")
    assert "no org 'nobody'" in cli.refused("domain", "add", "nobody", "example.com")
    assert "no such domain" in cli.refused("domain", "verify", "plain-co", "example.com")
    assert "no such domain" in cli.refused("domain", "remove", "plain-co", "example.com")
    claim = cli.ok("domain", "add", "plain-co", "example.com")
    again = cli.refused("domain", "add", "plain-co", "EXAMPLE.com")
    assert "already claimed by this organization" in again
    dns.zone.publish(claim["record"]["name"], "chatgrid-domain-verification=stale")
    assert "is not this organization's" in cli.refused(
        "domain", "verify", "plain-co", "example.com"
    )


def test_a_dns_server_that_does_not_answer_is_said_so(env: dict[str, str]) -> None:
    cli = Cli(env)
    cli.ok("org", "create", "quiet-co")
    cli.ok("domain", "add", "quiet-co", "example.com")
    with held_dns() as silent:
        cli.env["CHATGRID_DNS_RESOLVER"] = silent.address
        cli.env["CHATGRID_DNS_TIMEOUT_SECONDS"] = "0.5"
        message = cli.refused("domain", "verify", "quiet-co", "example.com")
    assert message == (
        "error: the DNS server did not answer within 0.5 seconds when asked for "
        "_chatgrid-challenge.example.com; nothing was changed, try again in a moment\n"
    )
    assert cli.ok("domain", "list", "quiet-co")[0]["status"] == "pending"
