"""An org admin turns generated conversation titles on or off on the Limits page."""

from __future__ import annotations

from chatgrid.audit import AuditFilter
from tests.support.console import World


def test_the_limits_page_saves_the_titles_choice_and_audits_it(world: World) -> None:
    alice = world.alice.browser
    url = f"/orgs/{world.org_a}/limits"
    page = alice.get(url)
    assert page.status_code == 200
    assert "Conversation titles" in page.text
    assert "off for your own key" in page.text  # a BYOK org, nobody chose yet
    assert world.ctx.chat_settings.generated_titles(world.org_a) is False

    saved = alice.form(f"{url}/titles", {"generated_titles": "on"})
    assert saved.status_code == 303
    assert saved.headers["location"].endswith("notice=titles_saved")
    assert world.ctx.chat_settings.generated_titles(world.org_a) is True
    assert "Not chosen yet" not in alice.get(url).text

    assert alice.form(f"{url}/titles", {}).status_code == 303  # unticked: off
    assert world.ctx.chat_settings.generated_titles(world.org_a) is False
    entries = world.ctx.audit.entries(world.org_a, AuditFilter(action="org.titles_changed"))
    assert sorted((e.details["before"], e.details["after"]) for e in entries) == [
        (False, True),
        (True, False),
    ]


def test_a_member_cannot_change_titles(world: World) -> None:
    bob = world.bob.browser
    assert (
        bob.form(f"/orgs/{world.org_a}/limits/titles", {"generated_titles": "on"}).status_code
        == 403
    )
    assert world.ctx.chat_settings.generated_titles(world.org_a) is False
