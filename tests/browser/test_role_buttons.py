"""Buttons a role can never use are not drawn: a member's documents page in a browser.

Collections shared with the org are curated by admins; a member sees them and
picks them in Chat, but gets no Upload or Delete there (the server would
refuse, ``tests/workspace/test_documents_api.py``), only a word on who can.
"""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from chatgrid.admin import people
from chatgrid.identity.models import Role
from chatgrid.identity.passwords import hash_password
from tests.support.browser import PASSWORD, WAIT_MS, new_member, sign_in
from tests.support.deployment import Deployment


def test_a_member_gets_no_upload_or_delete_on_shared_collections(
    browser: Browser, deployment: Deployment
) -> None:
    owner = new_member(deployment)
    ctx = deployment.context
    bob = people.add_member(ctx, owner.org_id, "bob-buttons@example.com", Role.MEMBER)
    ctx.accounts.set_password(bob.user_id, hash_password(PASSWORD))
    ctx.documents.create_collection(owner.org_id, "Company policies", None)
    ctx.documents.create_collection(owner.org_id, "Bob's notes", bob.id)
    base = deployment.instance.base_url

    for email, curator in (("bob-buttons@example.com", False), (owner.email, True)):
        page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
        sign_in(page, base, email)
        page.goto(f"{base}/orgs/{owner.org_id}/documents")
        shared = page.locator("section.collection", has_text="Company policies")
        expect(shared).to_be_visible(timeout=WAIT_MS)
        buttons = shared.get_by_role("button", name="Upload", exact=True)
        delete = shared.get_by_role("button", name="Delete collection Company policies")
        if curator:
            expect(buttons).to_have_count(1)
            expect(delete).to_have_count(1)
        else:
            expect(buttons).to_have_count(0)
            expect(delete).to_have_count(0)
            expect(shared).to_contain_text("only an admin adds or removes its documents")
            own = page.locator("section.collection", has_text="Bob's notes")
            expect(own.get_by_role("button", name="Upload", exact=True)).to_have_count(1)
        page.context.close()
