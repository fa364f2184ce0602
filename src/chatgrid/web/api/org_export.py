"""The org's data as one ZIP archive, streamed (org admins only), and a member's own
(``admin.org_export``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import StreamingResponse

from chatgrid.admin.org_export import export_member, export_org
from chatgrid.web.deps import Console, OrgAdmin, OrgMember

router = APIRouter(tags=["export"])


@router.get(
    "/api/orgs/{org_id}/export",
    summary="Export the org's data as a ZIP archive with a manifest",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
def export(state: Console, access: OrgAdmin) -> StreamingResponse:
    """Members, teams, collections, documents and their files, conversations and their
    images, prompts, budgets, usage, invoices and the audit log; never a secret. Written
    as it is read: the download starts at once, whatever the org's size."""
    filename, chunks = export_org(state.ctx, access.org.id, access.actor)
    return StreamingResponse(
        chunks,
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/api/orgs/{org_id}/me/export",
    summary="Export your own data as a ZIP archive with a manifest",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
def export_mine(state: Console, access: OrgMember) -> StreamingResponse:
    """Your conversations and their images, your collections and documents with their
    files, your prompts, teams and usage in this org: every member may download theirs."""
    filename, chunks = export_member(state.ctx, access.org.id, access.member.id, access.actor)
    return StreamingResponse(
        chunks,
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
