"""An org admin's workspace settings: whether conversations get a model's title.

A generated title is one more call on the org's bill (its own key, or the
shared credits it pays for), so it is the admin's choice; until they make
it, shared-credit orgs have it on and BYOK orgs off (``chat/titles.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from chatgrid.audit import Actor
from chatgrid.context import AppContext


@dataclass(frozen=True, slots=True)
class ChatSettings:
    generated_titles: bool
    #: False while the billing mode's default applies (nobody chose yet).
    chosen: bool
    title_model: str


def chat_settings(ctx: AppContext, org_id: str) -> ChatSettings:
    return ChatSettings(
        generated_titles=ctx.chat_settings.generated_titles(org_id),
        chosen=ctx.chat_settings.chosen(org_id) is not None,
        title_model=ctx.settings.title_model,
    )


def set_generated_titles(ctx: AppContext, org_id: str, actor: Actor, enabled: bool) -> ChatSettings:
    """Turn generated titles on or off for the org, audited."""
    before = ctx.chat_settings.generated_titles(org_id)
    ctx.chat_settings.set_generated_titles(org_id, enabled)
    ctx.changes.bump()
    ctx.audit.record(
        org_id,
        actor,
        "org.titles_changed",
        org_id,
        {"before": before, "after": enabled},
    )
    return chat_settings(ctx, org_id)
