"""Invoices in the console: an org admin lists them, reads one as a page and downloads it
as CSV and JSON (the CLI's own exports); a plain member gets 403, another org 404; the
operator reads any tenant's."""

from __future__ import annotations

import json

from chatgrid.admin import billing
from chatgrid.billing.invoices import invoice_csv
from tests.support.console import World, seed_invoice, sign_in_operator


def test_an_admin_reads_an_invoice_with_its_seat_and_usage_lines(world: World) -> None:
    period = seed_invoice(world)
    alice = world.alice.browser
    listing = alice.get(f"/orgs/{world.org_a}/invoices")
    assert listing.status_code == 200
    assert f'href="/orgs/{world.org_a}/invoices/{period}"' in listing.text
    page = alice.get(f"/orgs/{world.org_a}/invoices/{period}")
    assert page.status_code == 200
    invoice = billing.get_invoice(world.ctx, world.org_a, period)
    seat_lines = [line for line in invoice.lines if line["kind"] == "seat"]
    assert len(seat_lines) >= 3  # alice, bob, dave
    for line in seat_lines:
        assert line["email"] in page.text
    assert "gpt-4o-mini" in page.text and "gpt-4o" in page.text
    assert "Shared-credit usage" in page.text
    total = invoice.total_micros
    assert f"${total // 1_000_000}." in page.text


def test_the_downloads_are_the_cli_exports(world: World) -> None:
    period = seed_invoice(world)
    alice = world.alice.browser
    invoice = billing.get_invoice(world.ctx, world.org_a, period)
    csv_file = alice.get(f"/orgs/{world.org_a}/invoices/{period}/csv")
    assert csv_file.status_code == 200
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_file.headers["content-disposition"]
    assert csv_file.text == invoice_csv(invoice)
    json_file = alice.get(f"/orgs/{world.org_a}/invoices/{period}/json")
    assert json.loads(json_file.text) == invoice.public()
    assert alice.get(f"/orgs/{world.org_a}/invoices/{period}/xml").status_code == 404
    assert alice.get(f"/orgs/{world.org_a}/invoices/1999-01").status_code == 404


def test_a_plain_member_gets_403_and_another_org_404(world: World) -> None:
    period = seed_invoice(world)
    urls = [
        f"/orgs/{world.org_a}/invoices",
        f"/orgs/{world.org_a}/invoices/{period}",
        f"/orgs/{world.org_a}/invoices/{period}/csv",
    ]
    for url in urls:
        assert world.bob.browser.get(url).status_code == 403, url
        assert world.charlie.browser.get(url).status_code == 404, url
    # charlie's own org has no such invoice either
    own = f"/orgs/{world.org_b}/invoices/{period}"
    assert world.charlie.browser.get(own).status_code == 404


def test_the_operator_reads_and_downloads_a_tenants_invoices(world: World) -> None:
    period = seed_invoice(world)
    ops = sign_in_operator(world)
    tenant = ops.get(f"/operator/tenants/{world.org_a}")
    assert tenant.status_code == 200
    assert f"/operator/tenants/{world.org_a}/invoices/{period}" in tenant.text
    page = ops.get(f"/operator/tenants/{world.org_a}/invoices/{period}")
    assert page.status_code == 200 and "Seats" in page.text
    invoice = billing.get_invoice(world.ctx, world.org_a, period)
    csv_file = ops.get(f"/operator/tenants/{world.org_a}/invoices/{period}/csv")
    assert csv_file.text == invoice_csv(invoice)
    assert ops.get(f"/operator/tenants/{world.org_b}/invoices/{period}").status_code == 404
