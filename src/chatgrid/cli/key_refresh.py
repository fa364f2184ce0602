"""``chatgrid credential refresh ORG``: ask the providers for the org's keys' models now.

Registered on ``credential_app`` (``cli/keys.py``) where the command is
assembled. Prints, per key, the models added and removed; the stored lists
are what the providers answered, and every server uses them at once.
"""

from __future__ import annotations

from chatgrid.audit import Actor
from chatgrid.cli.common import OrgArg, admin_context, emit, run_async
from chatgrid.gateway.model_refresh import ModelChange, refresh_org_keys


def credential_refresh(org: OrgArg) -> None:
    """Refresh the org's keys' model lists from their providers; print what changed."""
    with admin_context() as ctx:
        changes = run_async(lambda: refresh_org_keys(ctx, org, Actor.cli()))
        emit({"keys": [change_view(change) for change in changes]})


def change_view(change: ModelChange) -> dict[str, object]:
    return {
        "id": change.key_id,
        "provider": change.provider,
        "added": change.added,
        "removed": change.removed,
        "models": change.models,
    }
