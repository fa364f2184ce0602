"""Document collections through the API: org-wide ones (admins curate) and private ones.

Thin: who may see and change what, the uploads' limits and the search itself
live in ``documents/library.py``, which the chat workspace uses too. Here the
URL's ids are read and the answers shaped.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, UploadFile, status

from chatgrid.documents.library import DocumentLibrary, Reader
from chatgrid.documents.models import Collection, Document
from chatgrid.web.api.documents_schemas import (
    CollectionCreate,
    CollectionPublic,
    DocumentPublic,
    PassagePublic,
    collection_public,
    document_public,
    passage_public,
)
from chatgrid.web.deps import Console, OrgAccess, OrgMember, url_id

router = APIRouter(tags=["documents"])


def library_of(state: Console) -> DocumentLibrary:
    return state.library


Library = Annotated[DocumentLibrary, Depends(library_of)]


def reader_of(access: OrgAccess) -> Reader:
    return Reader(access.member.id, access.is_admin, access.actor)


def visible_collection(collection_id: str, access: OrgMember, library: Library) -> Collection:
    found_id = url_id(collection_id, "collection")
    return library.collection(access.org.id, access.member.id, found_id)


VisibleCollection = Annotated[Collection, Depends(visible_collection)]


def visible_document(document_id: str, access: OrgMember, library: Library) -> Document:
    return library.document(access.org.id, access.member.id, url_id(document_id, "document"))


VisibleDocument = Annotated[Document, Depends(visible_document)]


@router.get(
    "/api/orgs/{org_id}/collections",
    response_model=list[CollectionPublic],
    summary="The org's shared collections and your private ones",
)
def list_collections(access: OrgMember, library: Library) -> list[CollectionPublic]:
    found = library.visible(access.org.id, access.member.id)
    counts = library.document_counts(access.org.id)
    return [collection_public(c, counts.get(c.id, 0)) for c in found]


@router.post(
    "/api/orgs/{org_id}/collections",
    response_model=CollectionPublic,
    status_code=201,
    summary="Create a collection (shared ones: admins only)",
)
def create_collection(
    body: CollectionCreate, access: OrgMember, library: Library
) -> CollectionPublic:
    shared = body.scope == "org"
    created = library.create_collection(access.org.id, reader_of(access), body.name, shared=shared)
    return collection_public(created, 0)


@router.delete(
    "/api/orgs/{org_id}/collections/{collection_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a collection and everything in it",
)
def delete_collection(access: OrgMember, library: Library, collection: VisibleCollection) -> None:
    library.delete_collection(reader_of(access), collection)


@router.get(
    "/api/orgs/{org_id}/collections/{collection_id}/documents",
    response_model=list[DocumentPublic],
    summary="A collection's documents and their ingestion progress",
)
def list_documents(library: Library, collection: VisibleCollection) -> list[DocumentPublic]:
    return [document_public(d) for d in library.documents(collection)]


@router.post(
    "/api/orgs/{org_id}/collections/{collection_id}/documents",
    response_model=DocumentPublic,
    status_code=202,
    summary="Upload a document (PDF, DOCX, Markdown, text, HTML); it is ingested in the background",
)
async def upload_document(
    access: OrgMember,
    library: Library,
    collection: VisibleCollection,
    file: Annotated[UploadFile, File(description="The document")],
) -> DocumentPublic:
    data = await file.read(library.max_bytes + 1)  # one byte over is enough to refuse
    document = await library.upload(
        reader_of(access), collection, file.filename, file.content_type, data
    )
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
def delete_document(access: OrgMember, library: Library, document: VisibleDocument) -> None:
    library.delete_document(reader_of(access), document)


@router.get(
    "/api/orgs/{org_id}/search",
    response_model=list[PassagePublic],
    summary="Search your collections (keyword and meaning, fused)",
)
async def search(
    access: OrgMember,
    library: Library,
    q: Annotated[str, Query(min_length=1, max_length=1000)],
    collection_id: Annotated[list[str] | None, Query()] = None,
) -> list[PassagePublic]:
    passages, _ = await library.search(
        access.org.id, access.member.id, q, collection_id, 10, param="collection_id"
    )
    return [passage_public(access.org.id, p) for p in passages]
