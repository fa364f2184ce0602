"""Key reconciliation in the console and the API: an admin uploads OpenAI's usage export and
sees the difference highlighted; the admin key is write-only (its last four shown); members
get 403, another org 404, and a change needs the CSRF token."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.support.console import World

DAY_ONE = int(datetime(2026, 5, 1, tzinfo=UTC).timestamp())
ADMIN_KEY = "sk-admin-page-canary-0123456789abcd"


def usage_pages(requests: int) -> dict[str, object]:
    result = {
        "object": "organization.usage.completions.result",
        "num_model_requests": requests,
        "input_tokens": 10 * requests,
        "output_tokens": 5 * requests,
        "model": "gpt-4o",
    }
    bucket = {"object": "bucket", "start_time": DAY_ONE, "end_time": DAY_ONE + 86_400}
    return {"object": "page", "data": [{**bucket, "results": [result]}], "has_more": False}


def test_an_admin_uploads_usage_and_keeps_an_admin_key_write_only(world: World) -> None:
    alice, page = world.alice.browser, f"/orgs/{world.org_a}/reconciliation"
    shown = alice.get(page)
    assert shown.status_code == 200 and "Key reconciliation" in shown.text
    assert f'href="{page}"' in shown.text  # in the admin's menu

    upload = alice.client.post(
        page,
        data={"csrf_token": alice.csrf, "threshold": "2"},
        files={"usage": ("usage.json", json.dumps(usage_pages(4)), "application/json")},
    )
    assert upload.status_code == 200, upload.text
    assert "4 requests were made outside ChatGrid" in upload.text and 'class="over"' in upload.text
    bad = alice.client.post(
        page, data={"csrf_token": alice.csrf}, files={"usage": ("u.json", b"nope", "text/plain")}
    )
    assert bad.status_code == 400 and "not JSON" in bad.text

    saved = alice.form(f"{page}/key", {"admin_key": ADMIN_KEY, "api_key_id": ""})
    assert saved.status_code == 303
    again = alice.get(saved.headers["location"]).text
    assert "Saved." in again and ADMIN_KEY[-4:] in again and ADMIN_KEY not in again
    api = f"/api/orgs/{world.org_a}/reconciliation"
    assert alice.api("GET", api).json()["admin_key"]["last4"] == ADMIN_KEY[-4:]
    answer = alice.api("POST", api, {"usage": usage_pages(1), "threshold": 0})
    assert answer.status_code == 200 and answer.json()["extra_requests"] == 1
    assert alice.api("PUT", f"{api}/key", {"admin_key": "sk-proj-x"}).status_code == 400
    assert alice.api("DELETE", f"{api}/key").json()["admin_key"] is None
    assert alice.api("DELETE", f"{api}/key").status_code == 404
    assert alice.api("POST", f"{api}/fetch", {"days": 1}).status_code == 404  # no key
    assert not any(ADMIN_KEY in seen for seen in alice.seen)


def test_members_other_orgs_and_forged_requests_are_refused(world: World) -> None:
    page, api = f"/orgs/{world.org_a}/reconciliation", f"/api/orgs/{world.org_a}/reconciliation"
    assert world.bob.browser.get(page).status_code == 403
    assert world.charlie.browser.get(page).status_code == 404
    key = {"admin_key": ADMIN_KEY}
    assert world.bob.browser.api("PUT", f"{api}/key", key).status_code == 403
    assert world.charlie.browser.api("GET", api).status_code == 404
    assert world.alice.browser.api("PUT", f"{api}/key", key, csrf=False).status_code == 403
