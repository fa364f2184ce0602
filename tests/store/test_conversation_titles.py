"""A generated title never overwrites a rename, and the org's choice overrides its default."""

from __future__ import annotations

from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode, Role
from tests.support.console import add_user


def test_a_generated_title_gives_way_to_a_rename_made_meanwhile(context: AppContext) -> None:
    org = context.orgs.create("titles-a", BillingMode.BYOK)
    _, member_id = add_user(context, org.id, "ada@example.com", Role.MEMBER)
    conversation = context.conversations.create(org.id, member_id, "Plan the offsite", None)
    assert context.conversations.retitle(conversation, "Plan the offsite", "Offsite plans")
    found = context.conversations.get(org.id, member_id, conversation.id)
    assert found is not None and found.title == "Offsite plans"
    renamed = context.conversations.update(found, title="Lisbon, June")
    assert not context.conversations.retitle(renamed, "Offsite plans", "Something else")
    kept = context.conversations.get(org.id, member_id, conversation.id)
    assert kept is not None and kept.title == "Lisbon, June"


def test_generated_titles_follow_the_billing_mode_until_an_admin_chooses(
    context: AppContext,
) -> None:
    byok = context.orgs.create("titles-byok", BillingMode.BYOK)
    shared = context.orgs.create("titles-shared", BillingMode.SHARED)
    settings = context.chat_settings
    assert settings.generated_titles(byok.id) is False and settings.chosen(byok.id) is None
    assert settings.generated_titles(shared.id) is True
    settings.set_generated_titles(byok.id, True)
    settings.set_generated_titles(shared.id, False)
    settings.set_generated_titles(shared.id, False)  # again: one row, the same choice
    assert settings.generated_titles(byok.id) is True and settings.chosen(byok.id) is True
    assert settings.generated_titles(shared.id) is False
    assert settings.generated_titles("org_unknown") is False
