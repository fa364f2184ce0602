"""SCIM 2.0 endpoints under ``/scim/v2`` for identity providers (Okta, Microsoft Entra ID).

Authenticated by the org's SCIM bearer token, not a console session (no
CSRF: the caller is a server). Every error is in SCIM's shape with
``application/scim+json``; the protocol's parsing lives in
``identity.scim`` and the actions in ``admin.scim``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from chatgrid.admin import scim as actions
from chatgrid.admin import scim_groups as groups
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import ChatGridError, InvalidRequest, NotFound
from chatgrid.identity import scim
from chatgrid.identity.models import Org
from chatgrid.store.scim import ScimUser
from chatgrid.store.scim_groups import ScimGroup
from chatgrid.web.state import ConsoleState

PREFIX = "/scim/v2"
router = APIRouter(prefix=PREFIX, include_in_schema=False)
MAX_BODY = 64 * 1024

Work = Callable[[AppContext, Org, Actor, Any], tuple[int, dict[str, Any] | None]]


def _reply(status: int, body: dict[str, Any] | None) -> Response:
    if body is None:
        return Response(status_code=status)
    return Response(orjson.dumps(body), status_code=status, media_type=scim.MEDIA_TYPE)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


async def _serve(request: Request, work: Work, *, needs_body: bool = False) -> Response:
    state: ConsoleState = request.app.state.console
    ctx = state.ctx
    try:
        body: Any = None
        if needs_body:
            raw = await request.body()
            if len(raw) > MAX_BODY:
                raise InvalidRequest("the body is too large", code="invalidSyntax", status=413)
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise InvalidRequest("the body is not JSON", code="invalidSyntax") from None
        org, actor = await run_in_threadpool(
            actions.authenticate, ctx, request.headers.get("authorization")
        )
        status, answer = await run_in_threadpool(work, ctx, org, actor, body)
    except ChatGridError as error:
        reply = _reply(error.status, scim.error_body(error))
        if error.status == 401:
            reply.headers["WWW-Authenticate"] = 'Bearer realm="scim"'
        return reply
    return _reply(status, answer)


def _user_body(request: Request, user: ScimUser) -> dict[str, Any]:
    return scim.user_resource(
        user.member_id, user.email, user.active, user.external_id, _base(request)
    )


def _member_id(value: str) -> str:
    if not value.startswith("mem_") or len(value) > 40:
        raise NotFound("no such User", code="scim_user_not_found")
    return value


@router.get("/Users")
async def list_users(request: Request) -> Response:
    query = request.query_params

    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, dict[str, Any]]:
        found = scim.parse_filter(query.get("filter"))
        page = scim.parse_page(query.get("startIndex"), query.get("count"))
        users, total = actions.find_users(
            ctx,
            org,
            email=found.value if found and found.attribute == "userName" else None,
            external_id=found.value if found and found.attribute == "externalId" else None,
            offset=page.start_index - 1,
            limit=page.count,
        )
        resources = [_user_body(request, user) for user in users]
        return 200, scim.list_body(resources, total, page)

    return await _serve(request, work)


@router.post("/Users")
async def create_user(request: Request) -> Response:
    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, dict[str, Any]]:
        user = actions.create_user(ctx, org, actor, scim.user_fields(body))
        return 201, _user_body(request, user)

    return await _serve(request, work, needs_body=True)


@router.get("/Users/{member_id}")
async def get_user(request: Request, member_id: str) -> Response:
    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, dict[str, Any]]:
        return 200, _user_body(request, actions.get_user(ctx, org, _member_id(member_id)))

    return await _serve(request, work)


@router.put("/Users/{member_id}")
async def replace_user(request: Request, member_id: str) -> Response:
    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, dict[str, Any]]:
        fields = scim.user_fields(body)
        user = actions.replace_user(ctx, org, actor, _member_id(member_id), fields)
        return 200, _user_body(request, user)

    return await _serve(request, work, needs_body=True)


@router.patch("/Users/{member_id}")
async def patch_user(request: Request, member_id: str) -> Response:
    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, dict[str, Any]]:
        change = scim.user_patch(body)
        user = actions.change_user(ctx, org, actor, _member_id(member_id), change)
        return 200, _user_body(request, user)

    return await _serve(request, work, needs_body=True)


@router.delete("/Users/{member_id}")
async def delete_user(request: Request, member_id: str) -> Response:
    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, None]:
        actions.delete_user(ctx, org, actor, _member_id(member_id))
        return 204, None

    return await _serve(request, work)


def _group_body(request: Request, group: ScimGroup) -> dict[str, Any]:
    return scim.group_resource(
        group.id, group.display_name, group.external_id, group.member_ids, _base(request)
    )


def _group_id(value: str) -> str:
    if not value.startswith("grp_") or len(value) > 40:
        raise NotFound("no such Group", code="scim_group_not_found")
    return value


@router.get("/Groups")
async def list_groups(request: Request) -> Response:
    query = request.query_params

    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, dict[str, Any]]:
        found = scim.parse_filter(query.get("filter"))
        if found is not None and found.attribute != "displayName":
            raise InvalidRequest('Groups take filter=displayName eq "..."', code="invalidFilter")
        page = scim.parse_page(query.get("startIndex"), query.get("count"))
        listed, total = groups.find_groups(
            ctx,
            org,
            name=found.value if found else None,
            offset=page.start_index - 1,
            limit=page.count,
        )
        resources = [_group_body(request, group) for group in listed]
        return 200, scim.list_body(resources, total, page)

    return await _serve(request, work)


@router.post("/Groups")
async def create_group(request: Request) -> Response:
    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, dict[str, Any]]:
        group = groups.create_group(ctx, org, actor, scim.group_fields(body))
        return 201, _group_body(request, group)

    return await _serve(request, work, needs_body=True)


@router.get("/Groups/{group_id}")
async def get_group(request: Request, group_id: str) -> Response:
    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, dict[str, Any]]:
        return 200, _group_body(request, groups.get_group(ctx, org, _group_id(group_id)))

    return await _serve(request, work)


@router.put("/Groups/{group_id}")
async def replace_group(request: Request, group_id: str) -> Response:
    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, dict[str, Any]]:
        change = scim.group_fields(body)
        group = groups.change_group(ctx, org, actor, _group_id(group_id), change)
        return 200, _group_body(request, group)

    return await _serve(request, work, needs_body=True)


@router.patch("/Groups/{group_id}")
async def patch_group(request: Request, group_id: str) -> Response:
    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, None]:
        groups.change_group(ctx, org, actor, _group_id(group_id), scim.group_patch(body))
        return 204, None

    return await _serve(request, work, needs_body=True)


@router.delete("/Groups/{group_id}")
async def delete_group(request: Request, group_id: str) -> Response:
    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, None]:
        groups.delete_group(ctx, org, actor, _group_id(group_id))
        return 204, None

    return await _serve(request, work)


@router.get("/ServiceProviderConfig")
async def service_provider_config(request: Request) -> Response:
    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, dict[str, Any]]:
        return 200, scim.service_provider_config()

    return await _serve(request, work)


@router.get("/ResourceTypes")
async def resource_types(request: Request) -> Response:
    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, dict[str, Any]]:
        return 200, scim.resource_types(_base(request))

    return await _serve(request, work)


@router.get("/Schemas")
async def schemas(request: Request) -> Response:
    def work(ctx: AppContext, org: Org, actor: Actor, body: Any) -> tuple[int, dict[str, Any]]:
        return 200, scim.schemas()

    return await _serve(request, work)
