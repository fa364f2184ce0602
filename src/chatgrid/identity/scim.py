"""SCIM 2.0 (RFC 7643/7644) as pure code: filters, paging, PATCH operations, resources.

Identity providers speak slightly different dialects: Okta sends
``{"op": "replace", "value": {"active": false}}``, Microsoft Entra ID sends
``{"op": "Replace", "path": "active", "value": "False"}`` (a string) or a
path-less value object. This module turns all of them into one
``UserChange`` so the admin functions see a single meaning. Nothing here
touches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chatgrid.errors import ChatGridError, InvalidRequest

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
MEDIA_TYPE = "application/scim+json"

#: RFC 7644 §3.12 scimType values an error's ``code`` may carry through.
SCIM_TYPES = frozenset(
    {
        "invalidFilter",
        "tooMany",
        "uniqueness",
        "mutability",
        "invalidSyntax",
        "invalidPath",
        "noTarget",
        "invalidValue",
        "invalidVers",
        "sensitive",
    }
)

MAX_PAGE = 200
_FILTER = re.compile(r'^\s*([A-Za-z.]+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
_USER_FILTERS = {
    "username": "userName",
    "externalid": "externalId",
    "displayname": "displayName",
}


def error_body(error: ChatGridError) -> dict[str, Any]:
    """The SCIM error shape (status as a string, scimType only when it is one of RFC 7644's)."""
    body: dict[str, Any] = {
        "schemas": [ERROR_SCHEMA],
        "status": str(error.status),
        "detail": error.message,
    }
    if error.code in SCIM_TYPES:
        body["scimType"] = error.code
    return body


@dataclass(frozen=True)
class Filter:
    attribute: str  # canonical spelling: userName, externalId
    value: str


def parse_filter(text: str | None) -> Filter | None:
    """``userName eq "a@b.example"`` or ``externalId eq "..."``: the only filters IdPs send."""
    if text is None or not text.strip():
        return None
    match = _FILTER.match(text)
    attribute = _USER_FILTERS.get(match.group(1).lower()) if match else None
    if match is None or attribute is None:
        raise InvalidRequest(
            'only filter=userName, externalId or displayName eq "..." is supported',
            code="invalidFilter",
        )
    return Filter(attribute, match.group(2).replace('\\"', '"').replace("\\\\", "\\"))


@dataclass(frozen=True)
class Page:
    start_index: int  # 1-based, as SCIM counts
    count: int


def parse_page(start_index: str | None, count: str | None) -> Page:
    """RFC 7644 §3.4.2.4: startIndex below 1 means 1, a negative count means 0."""
    try:
        start = int(start_index) if start_index else 1
        size = int(count) if count else MAX_PAGE
    except ValueError:
        raise InvalidRequest(
            "startIndex and count are whole numbers", code="invalidValue"
        ) from None
    return Page(max(start, 1), min(max(size, 0), MAX_PAGE))


def list_body(resources: list[dict[str, Any]], total: int, page: Page) -> dict[str, Any]:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": page.start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


def as_bool(value: object) -> bool:
    """SCIM booleans, including Entra ID's strings "True"/"False"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidRequest("active must be true or false", code="invalidValue")


@dataclass(frozen=True)
class UserFields:
    """What a POST or PUT of a User says, as far as ChatGrid keeps it."""

    user_name: str
    external_id: str | None
    active: bool


def user_fields(body: object) -> UserFields:
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", code="invalidSyntax")
    name = body.get("userName")
    if not isinstance(name, str) or "@" not in name or len(name) > 320:
        raise InvalidRequest("userName must be the person's email address", code="invalidValue")
    external = body.get("externalId")
    if external is not None and (not isinstance(external, str) or len(external) > 255):
        raise InvalidRequest("externalId must be a string", code="invalidValue")
    return UserFields(name.strip().lower(), external, as_bool(body.get("active", True)))


@dataclass(frozen=True)
class UserChange:
    """A PATCH's effect on a User; None means "left as it is"."""

    active: bool | None = None
    external_id: str | None = None


def user_patch(body: object) -> UserChange:
    """Every PatchOp operation on a User folded into one change (later ones win)."""
    if not isinstance(body, dict) or not isinstance(body.get("Operations"), list):
        raise InvalidRequest("a PATCH body needs an Operations list", code="invalidSyntax")
    active: bool | None = None
    external: str | None = None
    for operation in body["Operations"]:
        if not isinstance(operation, dict):
            raise InvalidRequest("each operation must be an object", code="invalidSyntax")
        op = str(operation.get("op", "")).lower()
        if op not in ("add", "replace"):
            raise InvalidRequest(f"op {op!r} is not supported on a User", code="invalidSyntax")
        path = operation.get("path")
        value = operation.get("value")
        values = {str(path): value} if path else value
        if not isinstance(values, dict):
            raise InvalidRequest("a path-less operation needs an object value", code="invalidValue")
        for key, item in values.items():
            lowered = key.lower()
            if lowered == "active":
                active = as_bool(item)
            elif lowered == "externalid" and isinstance(item, str):
                external = item
            # Names, titles and the like are the IdP's business: accepted and not kept.
    return UserChange(active, external)


def user_resource(
    member_id: str, email: str, active: bool, external_id: str | None, base_url: str
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "id": member_id,
        "userName": email,
        "active": active,
        "emails": [{"value": email, "primary": True, "type": "work"}],
        "meta": {"resourceType": "User", "location": f"{base_url}/Users/{member_id}"},
    }
    if external_id is not None:
        resource["externalId"] = external_id
    return resource


def service_provider_config() -> dict[str, Any]:
    """RFC 7643 §5: what this server supports (PATCH, filters; no bulk, sort or ETags)."""
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_PAGE},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "The org's SCIM token (chatgrid scim token create ORG)",
            }
        ],
    }


def resource_types(base_url: str) -> dict[str, Any]:
    user = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "schema": USER_SCHEMA,
        "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/User"},
    }
    group = {
        **user,
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "schema": GROUP_SCHEMA,
        "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/Group"},
    }
    return list_body([user, group], 2, Page(1, 2))


def schemas() -> dict[str, Any]:
    user = {
        "id": USER_SCHEMA,
        "name": "User",
        "attributes": [
            {"name": "userName", "type": "string", "required": True, "uniqueness": "server"},
            {"name": "externalId", "type": "string", "required": False},
            {"name": "active", "type": "boolean", "required": False},
        ],
    }
    return list_body([user], 1, Page(1, 1))


_MEMBER_PATH = re.compile(r'^members\[\s*value\s+eq\s+"([^"]+)"\s*\]$', re.IGNORECASE)


@dataclass(frozen=True)
class GroupChange:
    """A Group PATCH or PUT: a new name, members added, removed, or the whole list replaced."""

    display_name: str | None = None
    external_id: str | None = None
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()
    replace: tuple[str, ...] | None = None


def _member_values(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        member = item.get("value") if isinstance(item, dict) else None
        if not isinstance(member, str):
            raise InvalidRequest(
                "members are objects with a value (a User id)", code="invalidValue"
            )
        found.append(member)
    return found


def group_fields(body: object) -> GroupChange:
    """A POST or PUT of a Group: displayName required, members replace the list."""
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", code="invalidSyntax")
    name = body.get("displayName")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise InvalidRequest("displayName is required", code="invalidValue")
    external = body.get("externalId")
    members = _member_values(body["members"]) if body.get("members") else []
    return GroupChange(
        name.strip(), external if isinstance(external, str) else None, replace=tuple(members)
    )


def group_patch(body: object) -> GroupChange:
    """Okta's and Entra ID's Group PATCHes: add/remove/replace members, rename."""
    if not isinstance(body, dict) or not isinstance(body.get("Operations"), list):
        raise InvalidRequest("a PATCH body needs an Operations list", code="invalidSyntax")
    name: str | None = None
    external: str | None = None
    add: list[str] = []
    remove: list[str] = []
    replace: list[str] | None = None
    for operation in body["Operations"]:
        if not isinstance(operation, dict):
            raise InvalidRequest("each operation must be an object", code="invalidSyntax")
        op = str(operation.get("op", "")).lower()
        path = str(operation.get("path") or "")
        value = operation.get("value")
        one = _MEMBER_PATH.match(path)
        if op == "remove" and one:
            remove.append(one.group(1))
        elif op == "remove" and path.lower() == "members":
            if value is None:
                replace, add = [], []
            else:
                remove += _member_values(value)
        elif op in ("add", "replace") and path.lower() == "members":
            if op == "replace":
                replace, add = _member_values(value), []
            else:
                add += _member_values(value)
        elif op in ("add", "replace"):
            values = {path: value} if path else value
            if not isinstance(values, dict):
                raise InvalidRequest("a path-less operation needs an object", code="invalidValue")
            for key, item in values.items():
                if key.lower() == "displayname" and isinstance(item, str) and item.strip():
                    name = item.strip()
                elif key.lower() == "externalid" and isinstance(item, str):
                    external = item
                elif key.lower() == "members":
                    add += _member_values(item)
        else:
            raise InvalidRequest(f"op {op!r} on {path!r} is not supported", code="invalidPath")
    return GroupChange(
        name, external, tuple(add), tuple(remove), None if replace is None else tuple(replace)
    )


def group_resource(
    group_id: str, name: str, external_id: str | None, member_ids: tuple[str, ...], base_url: str
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "id": group_id,
        "displayName": name,
        "members": [{"value": m, "$ref": f"{base_url}/Users/{m}"} for m in member_ids],
        "meta": {"resourceType": "Group", "location": f"{base_url}/Groups/{group_id}"},
    }
    if external_id is not None:
        resource["externalId"] = external_id
    return resource
