"""A new org is led through its first steps, and nobody is shown a button that always fails.

charlie has just signed up (org B: one seat, no key, no calls). His overview
lists connect a key → invite → first chat, each step read from the org's
state, until all three are done. An invited member lands on Chat. A member
sees no Upload or Delete on shared collections and the only owner no Remove
on themselves, while the server still refuses both.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from chatgrid.admin import people
from chatgrid.identity.models import Role
from tests.support.console import PASSWORD, World, csrf_in
from tests.support.ledger_rows import entry, write
from tests.support.seeded_keys import seed_credential


def checklist(page: str) -> str:
    found = re.search(r'<section class="card" id="onboarding".*?</section>', page, re.S)
    return found.group(0) if found else ""


def test_a_new_orgs_overview_shows_the_three_steps_until_they_are_done(world: World) -> None:
    charlie, org = world.charlie.browser, world.org_b
    steps = checklist(charlie.get(f"/orgs/{org}").text)
    assert f'<a href="/orgs/{org}/key">Connect an OpenAI key, or choose shared credits' in steps
    assert f'<a href="/orgs/{org}/members">Invite someone' in steps
    assert f'<a href="/orgs/{org}/chat">Have a first chat' in steps

    seed_credential(world.ctx, org)
    steps = checklist(charlie.get(f"/orgs/{org}").text)
    assert '<span class="badge ok">done</span> Connect an OpenAI key' in steps
    assert f'<a href="/orgs/{org}/members">Invite someone' in steps

    page = charlie.get(f"/orgs/{org}/members")
    assert '<a href="#f-email">Invite someone</a> with the form above.' in page.text  # empty
    invited = charlie.form(
        f"/orgs/{org}/invitations",
        {"email": "newhire@example.com", "role": "member"},
        csrf=csrf_in(page.text),
    )
    assert invited.status_code == 200
    steps = checklist(charlie.get(f"/orgs/{org}").text)
    assert '<span class="badge ok">done</span> Invite someone' in steps

    member_id = str(world.charlie.member_id)
    write(world.ctx, [entry(org, member_id, datetime.now(UTC), charged=0, mode="byok")])
    assert checklist(charlie.get(f"/orgs/{org}").text) == ""  # all done: it goes away

    # Revoking the key undoes the first step: the list is read from state, not stored.
    world.ctx.credentials.revoke(org)
    assert "Connect an OpenAI key" in checklist(charlie.get(f"/orgs/{org}").text)


def test_members_see_no_checklist_and_their_overview_leads_to_chat(world: World) -> None:
    page = world.bob.browser.get(f"/orgs/{world.org_a}").text
    assert checklist(page) == ""
    assert f'<a href="/orgs/{world.org_a}/chat">Start a chat</a>' in page


def test_an_invited_member_lands_on_chat(world: World) -> None:
    newcomer = world.browser()
    path = f"/join/{world.ids['invitation_token']}"
    join = newcomer.get(path)
    accepted = newcomer.form(path, {"password": PASSWORD}, csrf=csrf_in(join.text))
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/orgs/{world.org_a}/chat?notice=invitation_accepted"
    landed = newcomer.get(accepted.headers["location"])
    assert landed.status_code == 200 and "You have joined the organization" in landed.text


def test_the_only_owner_sees_no_remove_on_themselves_and_the_server_still_refuses(
    world: World,
) -> None:
    alice, org = world.alice.browser, world.org_a
    page = alice.get(f"/orgs/{org}/members").text
    remove = f"/orgs/{org}/members/{{}}/remove"
    assert remove.format(world.alice.member_id) not in page
    assert remove.format(world.bob.member_id) in page
    refused = alice.form(remove.format(world.alice.member_id), csrf=csrf_in(page))
    assert refused.status_code == 409 and "last owner" in refused.text

    people.add_member(world.ctx, org, "second-owner@example.com", Role.OWNER)
    assert remove.format(world.alice.member_id) in alice.get(f"/orgs/{org}/members").text


def test_documents_page_tells_the_script_whether_the_viewer_curates_shared_collections(
    world: World,
) -> None:
    member = world.bob.browser.get(f"/orgs/{world.org_a}/documents").text
    assert 'data-curator="no"' in member
    admin = world.alice.browser.get(f"/orgs/{world.org_a}/documents").text
    assert 'data-curator="yes"' in admin
