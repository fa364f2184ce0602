"""Document collections through the API: org-wide ones (admins curate) and private ones.

Who may do what: every member reads the org's shared collections and their
own private ones; only admins create, fill or empty shared collections;
only its owner touches a private one. Anything else in the org is a 404,
exactly like something in another org, so ids reveal nothing. Changes to
shared collections are audited; a member's private ones are their own.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, UploadFile, status

from chatgrid.documents.models import Collection, Document
from chatgrid.errors import InvalidRequest, NotFound, PermissionDenied, RequestTooLarge
from chatgrid.web.api.chat import WorkspaceDep
from chatgrid.web.api.documents_schemas import (
    CollectionCreate,
    CollectionPublic,
    DocumentPublic,
    PassagePublic,
    collection_public,
    document_public,
    passage_public,
)
from chatgrid.web.deps import Console, Ctx, OrgAccess, OrgMember, url_id

router = APIRouter(tags=["documents"])


def visible_collection(collection_id: str, access: OrgMember, ctx: Ctx) -> Collection:
    found = ctx.documents.collection(access.org.id, url_id(collection_id, "collection"))
    if found is None or not found.visible_to(access.member.id):
        raise NotFound("No such collection.")
    return found


VisibleCollection = Annotated[Collection, Depends(visible_collection)]


def visible_document(document_id: str, access: OrgMember, ctx: Ctx) -> Document:
    found = ctx.documents.document(access.org.id, url_id(document_id, "document"))
    if found is not None:
        visible_collection(found.collection_id, access, ctx)
        return found
    raise NotFound("No such document.")


VisibleDocument = Annotated[Document, Depends(visible_document)]


def require_curator(collection: Collection, access: OrgAccess) -> None:
    """Shared collections are curated by admins; a private one belongs to its owner."""
    if collection.owner_member_id is None and not access.is_admin:
        raise PermissionDenied("Only an admin can change the organization's shared documents.")


@router.get(
    "/api/orgs/{org_id}/collections",
    response_model=list[CollectionPublic],
    summary="The org's shared collections and your private ones",
)
def list_collections(ctx: Ctx, access: OrgMember) -> list[CollectionPublic]:
    found = ctx.documents.collections_visible(access.org.id, access.member.id)
    counts = ctx.documents.document_counts(access.org.id)
    return [collection_public(c, counts.get(c.id, 0)) for c in found]


@router.post(
    "/api/orgs/{org_id}/collections",
    response_model=CollectionPublic,
    status_code=201,
    summary="Create a collection (shared ones: admins only)",
)
def create_collection(body: CollectionCreate, ctx: Ctx, access: OrgMember) -> CollectionPublic:
    name = body.name.strip()
    if not name:
        raise InvalidRequest("A collection needs a name.", param="name")
    if body.scope == "org" and not access.is_admin:
        raise PermissionDenied("Only an admin can create a collection shared with everyone.")
    owner = None if body.scope == "org" else access.member.id
    created = ctx.documents.create_collection(access.org.id, name, owner)
    if owner is None:
        ctx.audit.record(
            access.org.id, access.actor, "collection.created", created.id, {"name": name}
        )
    return collection_public(created, 0)


@router.delete(
    "/api/orgs/{org_id}/collections/{collection_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a collection and everything in it",
)
def delete_collection(ctx: Ctx, access: OrgMember, collection: VisibleCollection) -> None:
    require_curator(collection, access)
    ctx.documents.delete_collection(access.org.id, collection.id)
    if not collection.is_private:
        details = {"name": collection.name}
        ctx.audit.record(access.org.id, access.actor, "collection.deleted", collection.id, details)


@router.get(
    "/api/orgs/{org_id}/collections/{collection_id}/documents",
    response_model=list[DocumentPublic],
    summary="A collection's documents and their ingestion progress",
)
def list_documents(ctx: Ctx, collection: VisibleCollection) -> list[DocumentPublic]:
    return [document_public(d) for d in ctx.documents.documents(collection.org_id, collection.id)]


@router.post(
    "/api/orgs/{org_id}/collections/{collection_id}/documents",
    response_model=DocumentPublic,
    status_code=202,
    summary="Upload a document (PDF, DOCX, Markdown, text, HTML); it is ingested in the background",
)
async def upload_document(
    state: Console,
    access: OrgMember,
    collection: VisibleCollection,
    file: Annotated[UploadFile, File(description="The document")],
) -> DocumentPublic:
    require_curator(collection, access)
    ctx = state.ctx
    if state.workspace is not None:  # counted before anything is stored or queued
        await state.workspace.ingestor.uploads.admit(access.org.id, access.member.id)
    limit = ctx.settings.document_max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise RequestTooLarge(
            f"This file is larger than the {limit // (1024 * 1024)} MiB a document may be.",
            code="document_too_large",
        )
    if not data:
        raise InvalidRequest("The file is empty.", param="file", code="document_empty")
    filename = (file.filename or "document").replace("\\", "/").rsplit("/", 1)[-1] or "document"
    document = await asyncio.to_thread(
        ctx.documents.add_document,
        access.org.id,
        collection.id,
        access.member.id,
        filename,
        file.content_type or "application/octet-stream",
        data,
    )
    if not collection.is_private:
        details = {"filename": filename, "collection": collection.name, "bytes": len(data)}
        await asyncio.to_thread(
            ctx.audit.record, access.org.id, access.actor, "document.uploaded", document.id, details
        )
    if state.workspace is not None:
        state.workspace.ingestor.wake()
    return document_public(document)


@router.get(
    "/api/orgs/{org_id}/documents/{document_id}",
    response_model=DocumentPublic,
    summary="A document and its ingestion progress",
)
def get_document(document: VisibleDocument) -> DocumentPublic:
    return document_public(document)


@router.delete(
    "/api/orgs/{org_id}/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a document with its file, text, chunks and vectors",
)
def delete_document(ctx: Ctx, access: OrgMember, document: VisibleDocument) -> None:
    collection = visible_collection(document.collection_id, access, ctx)
    require_curator(collection, access)
    ctx.documents.delete_document(access.org.id, document.id)
    if not collection.is_private:
        details = {"filename": document.filename, "collection": collection.name}
        ctx.audit.record(access.org.id, access.actor, "document.deleted", document.id, details)


@router.get(
    "/api/orgs/{org_id}/search",
    response_model=list[PassagePublic],
    summary="Search your collections (keyword and meaning, fused)",
)
async def search(
    state: Console,
    access: OrgMember,
    workspace: WorkspaceDep,
    q: Annotated[str, Query(min_length=1, max_length=1000)],
    collection_id: Annotated[list[str] | None, Query()] = None,
) -> list[PassagePublic]:
    ctx = state.ctx
    visible = await asyncio.to_thread(
        ctx.documents.collections_visible, access.org.id, access.member.id
    )
    allowed = {c.id for c in visible}
    wanted = collection_id or sorted(allowed)
    if any(c not in allowed for c in wanted):
        raise NotFound("No such collection.", param="collection_id")
    settings = ctx.settings
    vectors, _ = await workspace.gateway.embed(
        access.org.id,
        access.member.id,
        [q],
        settings.embedding_model,
        settings.embedding_dimensions,
    )
    passages = await asyncio.to_thread(
        workspace.retriever.search, access.org.id, wanted, q, vectors[0], 10
    )
    return [passage_public(access.org.id, p) for p in passages]
