"""The Limits page warns before an admin's allow-list leaves out the embedding model."""

from __future__ import annotations

from tests.support.console import World


def test_leaving_out_the_embedding_model_asks_first_and_saves_only_when_confirmed(
    world: World,
) -> None:
    alice = world.alice.browser
    url = f"/orgs/{world.org_a}/limits"
    embedding_model = world.ctx.settings.embedding_model
    page = alice.get(url)
    assert f"Documents need <code>{embedding_model}</code>" in page.text
    assert 'name="without_documents"' not in page.text

    only_chat = {"models_mode": "some", "model": ["gpt-4o-mini"], "member_rpm": "60"}
    asked = alice.form(url, only_chat)
    assert asked.status_code == 400
    assert f"This list leaves out {embedding_model}" in asked.text
    assert 'name="without_documents"' in asked.text
    assert 'value="60"' in asked.text  # what was typed is kept
    assert world.ctx.policies.get(world.org_a).allowed_models is None  # nothing saved yet

    kept = alice.form(url, {**only_chat, "model": ["gpt-4o-mini", embedding_model]})
    assert kept.status_code == 303
    allowed = world.ctx.policies.get(world.org_a).allowed_models
    assert allowed == frozenset({"gpt-4o-mini", embedding_model})

    confirmed = alice.form(url, {**only_chat, "without_documents": "yes"})
    assert confirmed.status_code == 303
    assert world.ctx.policies.get(world.org_a).allowed_models == frozenset({"gpt-4o-mini"})
