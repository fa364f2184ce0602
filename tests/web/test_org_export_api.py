"""The org's export through the API: an admin downloads the streamed ZIP archive; a member
gets 403, another org 404."""

from __future__ import annotations

import io
import zipfile

from tests.support.console import World


def test_an_admin_downloads_it_and_a_member_cannot(world: World) -> None:
    url = f"/api/orgs/{world.org_a}/export"
    answer = world.alice.browser.get(url)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    assert "attachment" in answer.headers["content-disposition"]
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    assert world.bob.browser.get(url).status_code == 403
    assert world.charlie.browser.get(url).status_code == 404
    billing_rows = zipfile.ZipFile(io.BytesIO(answer.content)).read("invoices.jsonl")
    assert billing_rows.count(b"\n") == len(world.ctx.billing.invoices(world.org_a))
