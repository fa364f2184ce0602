"""The prompt library through the API: the org's shared prompts (admins curate) and your own.

Thin: who may see and change what lives in ``chat/prompt_library.py``, which
the console page uses too. Here the URL's ids are read and the answers shaped.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from chatgrid.chat.prompt_library import PromptAuthor, PromptLibrary, SavedPrompt
from chatgrid.web.api.prompts_schemas import (
    PromptCreate,
    PromptPublic,
    PromptUpdate,
    prompt_public,
)
from chatgrid.web.deps import Ctx, OrgAccess, OrgMember, url_id

router = APIRouter(tags=["prompts"])


def prompt_library(ctx: Ctx) -> PromptLibrary:
    """No gateway needed: the library is storage and the audit trail, joined here."""
    return PromptLibrary(ctx.prompts, ctx.audit)


Library = Annotated[PromptLibrary, Depends(prompt_library)]


def author_of(access: OrgAccess) -> PromptAuthor:
    return PromptAuthor(access.member.id, access.is_admin, access.actor)


def visible_prompt(prompt_id: str, access: OrgMember, library: Library) -> SavedPrompt:
    found_id = url_id(prompt_id, "prompt")
    return library.prompt(access.org.id, access.member.id, found_id)


VisiblePrompt = Annotated[SavedPrompt, Depends(visible_prompt)]


@router.get(
    "/api/orgs/{org_id}/prompts",
    response_model=list[PromptPublic],
    summary="The org's shared prompts and your own, by name",
)
def list_prompts(access: OrgMember, library: Library) -> list[PromptPublic]:
    return [prompt_public(p) for p in library.visible(access.org.id, access.member.id)]


@router.post(
    "/api/orgs/{org_id}/prompts",
    response_model=PromptPublic,
    status_code=201,
    summary="Save a prompt (shared ones: admins only)",
)
def create_prompt(body: PromptCreate, access: OrgMember, library: Library) -> PromptPublic:
    created = library.create(
        access.org.id, author_of(access), body.name, body.text, shared=body.scope == "org"
    )
    return prompt_public(created)


@router.patch(
    "/api/orgs/{org_id}/prompts/{prompt_id}",
    response_model=PromptPublic,
    summary="Rename a prompt or change its text (shared ones: admins only)",
)
def update_prompt(
    body: PromptUpdate, access: OrgMember, library: Library, prompt: VisiblePrompt
) -> PromptPublic:
    updated = library.update(author_of(access), prompt, name=body.name, body=body.text)
    return prompt_public(updated)


@router.delete(
    "/api/orgs/{org_id}/prompts/{prompt_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a prompt (shared ones: admins only)",
)
def delete_prompt(access: OrgMember, library: Library, prompt: VisiblePrompt) -> None:
    library.delete(author_of(access), prompt)
