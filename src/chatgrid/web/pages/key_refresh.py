"""The key page's *Refresh models*: ask the providers for the org's keys' models now.

The result comes back on the key page (``added`` and ``removed`` in the
query); the page shows a name only when it agrees with the stored list, so a
crafted link cannot make it claim a change that did not happen.
"""

from __future__ import annotations

import asyncio
from functools import partial
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.gateway.model_refresh import refresh_org_keys
from chatgrid.web.deps import Console, OrgAdmin
from chatgrid.web.pages import keys
from chatgrid.web.pages.common import form_action, redirect

router = APIRouter()


@router.post("/orgs/{org_id}/key/refresh")
def refresh_models(request: Request, state: Console, access: OrgAdmin) -> Response:
    def refresh() -> Response:
        changes = asyncio.run(refresh_org_keys(state.ctx, access.org.id, access.actor))
        result = {
            "refreshed": "1",
            "added": ",".join(m for c in changes for m in c.added),
            "removed": ",".join(m for c in changes for m in c.removed),
        }
        return redirect(f"/orgs/{access.org.id}/key?{urlencode(result)}")

    return form_action(refresh, partial(keys._key_page, request, state, access, provider="openai"))
