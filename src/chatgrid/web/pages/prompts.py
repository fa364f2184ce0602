"""The prompt library page: every member's own prompts, and the org's shared ones.

Admins add, change and delete shared prompts here; members read them and
manage their own. Plain forms, no script needed; the rules are in
``chat/prompt_library.py``, the same the JSON API uses. In Chat, ``/`` in the
composer lists these prompts (``static/prompts.js``).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.chat.prompt_library import BODY_MAX, NAME_MAX, PROMPTS_PER_SHELF
from chatgrid.errors import ChatGridError
from chatgrid.web.api.prompts import Library, VisiblePrompt, author_of
from chatgrid.web.deps import Console, OrgAccess, OrgMember
from chatgrid.web.pages.common import form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()

_NOTICES = {
    "prompt_created": "The prompt is saved. Type / in Chat to use it.",
    "prompt_saved": "The prompt is saved.",
    "prompt_deleted": "The prompt is deleted.",
}
# Generous bounds on what a form may post; the library gives the clear refusal.
_NAME_FORM = 1000
_BODY_FORM = BODY_MAX * 4


def _page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    library: Library,
    *,
    refused: ChatGridError | None = None,
    typed: dict[str, str] | None = None,
    editing: str | None = None,
) -> Response:
    """``typed``: what the refused form held; ``editing``: which prompt's form it was
    (None: the new-prompt form)."""
    prompts = library.visible(access.org.id, access.member.id)
    return render(
        request,
        state,
        "prompts.html",
        access=access,
        section="prompts",
        shared=[p for p in prompts if p.is_shared],
        own=[p for p in prompts if not p.is_shared],
        typed=typed or {},
        editing=editing,
        name_max=NAME_MAX,
        body_max=BODY_MAX,
        per_shelf=PROMPTS_PER_SHELF,
        notice=_NOTICES.get(request.query_params.get("notice", "")),
        refused=refused,
    )


def _back(access: OrgAccess, notice: str) -> Response:
    return redirect(f"/orgs/{access.org.id}/prompts", notice)


@router.get("/orgs/{org_id}/prompts")
def prompts_page(request: Request, state: Console, access: OrgMember, library: Library) -> Response:
    return _page(request, state, access, library)


@router.post("/orgs/{org_id}/prompts")
def create_prompt(
    request: Request,
    state: Console,
    access: OrgMember,
    library: Library,
    name: Annotated[str, Form(max_length=_NAME_FORM)] = "",
    text: Annotated[str, Form(max_length=_BODY_FORM)] = "",
    scope: Annotated[str, Form(max_length=20)] = "private",
) -> Response:
    def create() -> Response:
        author = author_of(access)
        library.create(access.org.id, author, name, text, shared=scope == "org")
        return _back(access, "prompt_created")

    typed = {"name": name, "text": text, "scope": scope}
    return form_action(create, partial(_page, request, state, access, library, typed=typed))


@router.post("/orgs/{org_id}/prompts/{prompt_id}")
def update_prompt(
    request: Request,
    state: Console,
    access: OrgMember,
    library: Library,
    prompt: VisiblePrompt,
    name: Annotated[str, Form(max_length=_NAME_FORM)] = "",
    text: Annotated[str, Form(max_length=_BODY_FORM)] = "",
) -> Response:
    def save() -> Response:
        library.update(author_of(access), prompt, name=name, body=text)
        return _back(access, "prompt_saved")

    form = partial(
        _page,
        request,
        state,
        access,
        library,
        typed={"name": name, "text": text},
        editing=prompt.id,
    )
    return form_action(save, form)


@router.post("/orgs/{org_id}/prompts/{prompt_id}/delete")
def delete_prompt(
    request: Request, state: Console, access: OrgMember, library: Library, prompt: VisiblePrompt
) -> Response:
    def delete() -> Response:
        library.delete(author_of(access), prompt)
        return _back(access, "prompt_deleted")

    return form_action(delete, partial(_page, request, state, access, library))
