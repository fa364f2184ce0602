"""An identity provider's SCIM client for tests: the org's bearer token on every call."""

from __future__ import annotations

from typing import Any

import httpx

from chatgrid.admin import scim
from chatgrid.audit import Actor
from chatgrid.identity.scim import USER_SCHEMA
from tests.support.console import World

SCIM = "/scim/v2"


class Idp:
    """An identity provider's SCIM client: the org's bearer token on every call."""

    def __init__(self, world: World, org_id: str) -> None:
        self.world = world
        token, self.secret = scim.create_token(world.ctx, world.ctx.orgs.by_id(org_id), Actor.cli())
        self.token_id = token.id
        self.client = world.browser().client

    def call(self, method: str, path: str, body: Any = None, **params: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.secret}"}
        if body is not None:
            headers["Content-Type"] = "application/scim+json; charset=utf-8"
        return self.client.request(
            method, SCIM + path, json=body, params=params or None, headers=headers
        )


def new_user(email: str, external_id: str) -> dict[str, Any]:
    return {
        "schemas": [USER_SCHEMA],
        "userName": email,
        "externalId": external_id,
        "name": {"givenName": "Pat", "familyName": "Lee"},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": "Pat Lee",
        "active": True,
    }
