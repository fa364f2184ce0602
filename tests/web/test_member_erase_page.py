"""Erasing a member from the console: the page says what goes and what stays, the admin
types the member's email or nothing happens, refusals are shown on the page, and the
erased member is gone from the members page. Every member finds their own archive on
their account page."""

from __future__ import annotations

from chatgrid.audit import AuditFilter
from chatgrid.identity.models import Role
from tests.support.console import World, add_user, unique


def test_an_admin_erases_a_member_only_after_typing_their_email(world: World) -> None:
    alice, org, dave = world.alice.browser, world.org_a, world.dave
    erase = f"/orgs/{org}/members/{dave.member_id}/erase"
    assert erase in alice.get(f"/orgs/{org}/members").text
    assert world.bob.browser.get(erase).status_code == 403  # members cannot
    assert world.bob.browser.form(erase, {"confirm_email": dave.email}).status_code == 403

    page = alice.get(erase)
    assert page.status_code == 200
    assert "cannot be undone" in page.text and "What stays, under a pseudonym" in page.text
    assert 'name="confirm_email"' in page.text

    refused = alice.form(erase, {"confirm_email": "someone-else@example.com"})
    assert refused.status_code == 400
    assert f"type {dave.email} exactly" in refused.text and 'aria-invalid="true"' in refused.text
    assert dave.email in alice.get(f"/orgs/{org}/members").text  # nothing was erased

    done = alice.form(erase, {"confirm_email": f"  {dave.email.upper()} "})

    assert done.status_code == 200, done.text
    (receipt,) = world.ctx.audit.entries(org, AuditFilter(action="member.erased"))
    assert receipt.target in done.text and "Member erased" in done.text
    assert dave.email not in done.text
    assert dave.email not in alice.get(f"/orgs/{org}/members").text
    assert alice.get(erase).status_code == 404  # gone: nothing left to erase


def test_refusals_are_shown_on_the_page_never_a_server_error(world: World) -> None:
    ctx, org = world.ctx, world.org_a
    admin_email = unique("ada")
    add_user(ctx, org, admin_email, Role.ADMIN)
    admin = world.browser()
    admin.sign_in(admin_email)
    alice = world.alice
    owner_page = f"/orgs/{org}/members/{alice.member_id}/erase"

    # Only an owner erases an owner: the page says so and offers no form.
    shown = admin.get(owner_page)
    assert shown.status_code == 403 and "only an owner can erase an owner" in shown.text
    assert 'name="confirm_email"' not in shown.text
    posted = admin.form(owner_page, {"confirm_email": alice.email})
    assert posted.status_code == 403 and "only an owner can erase an owner" in posted.text

    # The last owner stays, even when she asks for herself.
    mine = alice.browser.get(owner_page)
    assert mine.status_code == 409 and "last owner" in mine.text
    posted = alice.browser.form(owner_page, {"confirm_email": alice.email})
    assert posted.status_code == 409 and "last owner" in posted.text
    assert ctx.members.get(org, str(alice.member_id)).status == "active"


def test_every_member_finds_their_own_archive_on_their_account_page(world: World) -> None:
    bob, org = world.bob.browser, world.org_a
    page = bob.get("/account").text
    link = f'href="/api/orgs/{org}/me/export"'
    assert link in page and "Download my data" in page
    assert f"/api/orgs/{world.org_b}/me/export" not in page  # only the orgs they belong to
    archive = bob.get(f"/api/orgs/{org}/me/export")
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
