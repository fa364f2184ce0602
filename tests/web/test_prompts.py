"""The prompt library through the JSON API and the console page.

Each member keeps their own prompts; the org's shared ones are read by all
and changed by admins only (a 403 for a member, like every admin action).
Another member's prompt, like another org's, is a 404. Shared changes are in
the audit log by name, never with their text.
"""

from __future__ import annotations

from typing import Any

from chatgrid.audit import AuditFilter
from chatgrid.chat.prompt_library import PROMPTS_PER_SHELF
from chatgrid.store.prompts import PromptRepository
from tests.support.console import Browser, World

SECRET_BODY = "Summarize the text below in three bullet points, then a one-line verdict."


def prompts_url(org_id: str, prompt_id: str = "") -> str:
    return f"/api/orgs/{org_id}/prompts" + (f"/{prompt_id}" if prompt_id else "")


def create(browser: Browser, org_id: str, name: str, body: str, scope: str = "private") -> Any:
    response = browser.api(
        "POST", prompts_url(org_id), {"name": name, "text": body, "scope": scope}
    )
    assert response.status_code == 201, response.text
    return response.json()


def names(browser: Browser, org_id: str) -> list[tuple[str, str]]:
    response = browser.api("GET", prompts_url(org_id))
    assert response.status_code == 200, response.text
    return [(p["name"], p["scope"]) for p in response.json()]


def test_members_keep_their_own_prompts_and_read_the_shared_ones(world: World) -> None:
    alice, bob, dave = world.alice.browser, world.bob.browser, world.dave.browser
    org = world.org_a
    shared = create(alice, org, "summarize", SECRET_BODY, "org")
    assert shared["scope"] == "org" and shared["text"] == SECRET_BODY
    mine = create(bob, org, "summarize", "Bob's own way of summarizing.")
    create(bob, org, "translate", "Translate into French.")

    assert names(bob, org) == [
        ("summarize", "org"),
        ("summarize", "private"),
        ("translate", "private"),
    ]
    assert names(alice, org) == [("summarize", "org")]  # bob's are his alone
    assert names(dave, org) == [("summarize", "org")]

    # A member reads shared prompts but cannot change them, nor add one.
    for method, body in (("PATCH", {"text": "changed"}), ("DELETE", None)):
        refused = bob.api(method, prompts_url(org, shared["id"]), body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["type"] == "permission_error"
    refused = bob.api("POST", prompts_url(org), {"name": "x", "text": "y", "scope": "org"})
    assert refused.status_code == 403

    # Another member's private prompt is not found, even for an admin.
    for browser in (alice, dave):
        for method, body in (("PATCH", {"text": "mine now"}), ("DELETE", None)):
            assert browser.api(method, prompts_url(org, mine["id"]), body).status_code == 404

    # The owner changes and deletes their own; an admin curates the shared ones.
    renamed = bob.api("PATCH", prompts_url(org, mine["id"]), {"name": "tldr"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "tldr" and renamed.json()["text"].startswith("Bob's")
    assert bob.api("DELETE", prompts_url(org, mine["id"])).status_code == 204
    assert bob.api("DELETE", prompts_url(org, mine["id"])).status_code == 404
    changed = alice.api("PATCH", prompts_url(org, shared["id"]), {"text": "Shorter, please."})
    assert changed.status_code == 200 and changed.json()["text"] == "Shorter, please."
    assert names(bob, org) == [("summarize", "org"), ("translate", "private")]


def test_another_orgs_prompts_are_not_found(world: World) -> None:
    alice, charlie = world.alice.browser, world.charlie.browser
    shared = create(alice, world.org_a, "summarize", SECRET_BODY, "org")
    for org in (world.org_a, world.org_b):
        for method, body in (("PATCH", {"text": "x"}), ("DELETE", None)):
            assert charlie.api(method, prompts_url(org, shared["id"]), body).status_code == 404
        assert charlie.form(f"/orgs/{org}/prompts/{shared['id']}/delete").status_code == 404
    assert charlie.api("GET", prompts_url(world.org_a)).status_code == 404
    assert names(charlie, world.org_b) == []
    assert SECRET_BODY not in "".join(charlie.seen)


def test_names_and_text_are_checked_and_refusals_say_why(world: World) -> None:
    alice = world.alice.browser
    org = world.org_a
    for bad in ("Summarize", "sum it", "", "x" * 41, "résumé", "/sum"):
        refused = alice.api("POST", prompts_url(org), {"name": bad, "text": "text"})
        assert refused.status_code == 400, bad
        assert refused.json()["error"]["param"] == "name", refused.text
    for bad_body in ("", "x" * 8001):
        refused = alice.api("POST", prompts_url(org), {"name": "ok", "text": bad_body})
        assert refused.status_code == 400
        assert refused.json()["error"]["param"] == "text"
    assert create(alice, org, "a-b_9" + "x" * 35, "y" * 8000)["name"] == "a-b_9" + "x" * 35

    first = create(alice, org, "summarize", "one")
    create(alice, org, "tldr", "two")
    taken = alice.api("POST", prompts_url(org), {"name": "summarize", "text": "again"})
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "prompt_name_taken"
    assert "/summarize" in taken.json()["error"]["message"]
    clash = alice.api("PATCH", prompts_url(org, first["id"]), {"name": "tldr"})
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "prompt_name_taken"
    # A shared prompt may have the name of someone's own one: they are different shelves.
    assert create(alice, org, "summarize", "shared", "org")["scope"] == "org"


def test_a_member_keeps_at_most_200_prompts_and_an_org_200_shared(world: World) -> None:
    alice, bob = world.alice.browser, world.bob.browser
    org = world.org_a
    store = PromptRepository(world.ctx.engine)
    assert world.bob.member_id is not None
    for i in range(PROMPTS_PER_SHELF):
        assert store.add_prompt(org, world.bob.member_id, f"p{i}", "text", PROMPTS_PER_SHELF)
        assert store.add_prompt(org, None, f"s{i}", "text", PROMPTS_PER_SHELF)
    full = bob.api("POST", prompts_url(org), {"name": "one-more", "text": "text"})
    assert full.status_code == 409
    assert full.json()["error"]["code"] == "prompt_limit_reached"
    assert "200" in full.json()["error"]["message"]
    shared_full = alice.api(
        "POST", prompts_url(org), {"name": "one-more", "text": "text", "scope": "org"}
    )
    assert shared_full.status_code == 409
    assert shared_full.json()["error"]["code"] == "prompt_limit_reached"
    # Alice's own shelf is her own: the org's full shelf does not stop it.
    assert create(alice, org, "one-more", "text")["scope"] == "private"


def test_shared_prompt_changes_are_audited_by_name_without_their_text(world: World) -> None:
    alice, bob = world.alice.browser, world.bob.browser
    org = world.org_a
    shared = create(alice, org, "summarize", SECRET_BODY, "org")
    alice.api("PATCH", prompts_url(org, shared["id"]), {"name": "tldr", "text": SECRET_BODY + "!"})
    alice.api("DELETE", prompts_url(org, shared["id"]))
    create(bob, org, "private-one", SECRET_BODY)  # a member's own prompt is their business

    entries = world.ctx.audit.entries(org, AuditFilter(action="prompt."))
    by_action = {e.action: e for e in entries}
    assert set(by_action) == {"prompt.created", "prompt.updated", "prompt.deleted"}
    assert by_action["prompt.created"].details == {"name": "summarize"}
    assert by_action["prompt.updated"].details == {"name": "tldr", "previous_name": "summarize"}
    assert by_action["prompt.deleted"].details == {"name": "tldr"}
    assert {e.target for e in entries} == {shared["id"]}
    assert {e.actor_email for e in entries} == {world.alice.email}
    assert all(SECRET_BODY not in str(e.details) for e in entries)


def test_the_prompts_page_lets_members_manage_their_own_and_admins_the_shared(
    world: World,
) -> None:
    alice, bob = world.alice.browser, world.bob.browser
    org = world.org_a
    page_url = f"/orgs/{org}/prompts"

    made = alice.form(page_url, {"name": "summarize", "text": SECRET_BODY, "scope": "org"})
    assert made.status_code == 303, made.text
    shared_id = names_and_ids(world)["summarize"]
    admin_page = alice.get(made.headers["location"]).text
    assert "Type / in Chat to use it." in admin_page
    assert f'action="/orgs/{org}/prompts/{shared_id}/delete"' in admin_page
    assert 'name="scope"' in admin_page

    member_page = bob.get(page_url)
    assert member_page.status_code == 200
    assert f'href="/orgs/{org}/prompts"' in member_page.text  # the nav entry
    assert "/summarize" in member_page.text and SECRET_BODY in member_page.text
    assert f"/prompts/{shared_id}/delete" not in member_page.text  # read-only for members
    assert 'name="scope"' not in member_page.text

    refused = bob.form(page_url, {"name": "Bad Name", "text": "x"})
    assert refused.status_code == 400
    assert "lower-case letters" in refused.text and 'value="Bad Name"' in refused.text
    assert bob.form(page_url, {"name": "mine", "text": "My text."}).status_code == 303
    own_id = names_and_ids(world, world.bob.member_id)["mine"]
    saved = bob.form(f"{page_url}/{own_id}", {"name": "mine2", "text": "Changed."})
    assert saved.status_code == 303
    too_long = bob.form(f"{page_url}/{own_id}", {"name": "mine2", "text": "x" * 8001})
    assert too_long.status_code == 400 and "8,000 characters" in too_long.text
    assert bob.form(f"{page_url}/{shared_id}/delete").status_code == 403
    assert bob.form(f"{page_url}/{shared_id}", {"name": "x", "text": "y"}).status_code == 403
    assert bob.form(f"{page_url}/{own_id}/delete").status_code == 303
    assert names_and_ids(world, world.bob.member_id) == {"summarize": shared_id}


def names_and_ids(world: World, member_id: str | None = None) -> dict[str, str]:
    """What a member (or, by default, nobody but the org) sees, straight from storage."""
    visible = PromptRepository(world.ctx.engine).prompts_visible(world.org_a, member_id or "-")
    return {p.name: p.id for p in visible}
