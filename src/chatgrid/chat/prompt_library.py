"""The prompt library, once: saved prompts a member inserts with ``/`` in the composer.

A prompt is a short command (``summarize``) and the text it stands for (its
body; ``text`` where callers send it). Each
member keeps their own; the org's shared ones are curated by its admins and
read by everyone. The JSON API and the console page both come here, so the
rules are written one time: a member cannot change a shared prompt (a 403,
like every admin-only action); another member's private prompt, like another
org's, is "not found", so ids reveal nothing. Changes to shared prompts are
audited by name, never with their text (a prompt may quote anything).

Storage and the audit trail are shapes (:class:`PromptStore`,
``audit.AuditTrail``), joined in by the web layer, so this module
has no SQL and no HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chatgrid.audit import Actor, AuditTrail
from chatgrid.errors import Conflict, InvalidRequest, NotFound, PermissionDenied

NAME_MAX = 40
BODY_MAX = 8000
#: Prompts one member may keep, and shared prompts one org may keep.
PROMPTS_PER_SHELF = 200
NAME_PATTERN = r"^[a-z0-9_-]+$"
_NAME = re.compile(NAME_PATTERN)


@dataclass(frozen=True)
class SavedPrompt:
    id: str
    org_id: str
    #: None: shared with the whole org; otherwise private to this member.
    owner_member_id: str | None
    name: str
    body: str
    created_at: datetime
    updated_at: datetime

    @property
    def is_shared(self) -> bool:
        return self.owner_member_id is None

    def visible_to(self, member_id: str) -> bool:
        return self.owner_member_id is None or self.owner_member_id == member_id


@dataclass(frozen=True)
class PromptAuthor:
    """A member acting on prompts: whose private ones are theirs, and whether
    they curate the org's shared ones."""

    member_id: str
    is_admin: bool
    actor: Actor


class PromptStore(Protocol):
    """Prompts as the library reads and changes them (``store/prompts.py``)."""

    def prompts_visible(self, org_id: str, member_id: str) -> list[SavedPrompt]: ...

    def prompt(self, org_id: str, prompt_id: str) -> SavedPrompt | None: ...

    def add_prompt(
        self, org_id: str, owner_member_id: str | None, name: str, body: str, limit: int
    ) -> SavedPrompt | None:
        """None when the shelf already holds ``limit`` prompts; a name already on the
        shelf is a ``Conflict`` (code ``prompt_name_taken``)."""
        ...

    def update_prompt(
        self, org_id: str, prompt_id: str, name: str, body: str
    ) -> SavedPrompt | None: ...

    def delete_prompt(self, org_id: str, prompt_id: str) -> bool: ...


def clean_name(name: str) -> str:
    """The command as typed after ``/``; a leading slash and spaces are forgiven."""
    cleaned = name.strip().removeprefix("/")
    if not cleaned or len(cleaned) > NAME_MAX or not _NAME.match(cleaned):
        raise InvalidRequest(
            f"A prompt's name is 1 to {NAME_MAX} characters of lower-case letters, "
            "digits, '-' and '_' (it is typed after '/', e.g. summarize).",
            param="name",
            code="invalid_prompt_name",
        )
    return cleaned


def check_body(body: str) -> str:
    if not body.strip():
        raise InvalidRequest("A prompt needs some text.", param="text", code="invalid_prompt_text")
    if len(body) > BODY_MAX:
        raise InvalidRequest(
            f"A prompt's text is at most {BODY_MAX:,} characters; this one has {len(body):,}.",
            param="text",
            code="invalid_prompt_text",
        )
    return body


class PromptLibrary:
    def __init__(self, store: PromptStore, audit: AuditTrail) -> None:
        self.store = store
        self.audit = audit

    def visible(self, org_id: str, member_id: str) -> list[SavedPrompt]:
        """The org's shared prompts and this member's own, by name."""
        return self.store.prompts_visible(org_id, member_id)

    def prompt(self, org_id: str, member_id: str, prompt_id: str) -> SavedPrompt:
        found = self.store.prompt(org_id, prompt_id)
        if found is None or not found.visible_to(member_id):
            raise NotFound("No such prompt.", code="prompt_not_found")
        return found

    def create(
        self, org_id: str, author: PromptAuthor, name: str, body: str, *, shared: bool
    ) -> SavedPrompt:
        if shared and not author.is_admin:
            raise PermissionDenied("Only an admin can add a prompt shared with everyone.")
        name, body = clean_name(name), check_body(body)
        owner = None if shared else author.member_id
        created = self.store.add_prompt(org_id, owner, name, body, PROMPTS_PER_SHELF)
        if created is None:
            whose = "The organization has" if shared else "You have"
            raise Conflict(
                f"{whose} {PROMPTS_PER_SHELF} prompts already, the most allowed; "
                "delete one to add another.",
                code="prompt_limit_reached",
            )
        if shared:
            self.audit.record(org_id, author.actor, "prompt.created", created.id, {"name": name})
        return created

    def update(
        self,
        author: PromptAuthor,
        prompt: SavedPrompt,
        *,
        name: str | None = None,
        body: str | None = None,
    ) -> SavedPrompt:
        _require_curator(author, prompt)
        new_name = prompt.name if name is None else clean_name(name)
        new_body = prompt.body if body is None else check_body(body)
        updated = self.store.update_prompt(prompt.org_id, prompt.id, new_name, new_body)
        if updated is None:  # deleted meanwhile
            raise NotFound("No such prompt.", code="prompt_not_found")
        if prompt.is_shared:
            details = {"name": new_name}
            if new_name != prompt.name:
                details["previous_name"] = prompt.name
            self.audit.record(prompt.org_id, author.actor, "prompt.updated", prompt.id, details)
        return updated

    def delete(self, author: PromptAuthor, prompt: SavedPrompt) -> None:
        _require_curator(author, prompt)
        if self.store.delete_prompt(prompt.org_id, prompt.id) and prompt.is_shared:
            details = {"name": prompt.name}
            self.audit.record(prompt.org_id, author.actor, "prompt.deleted", prompt.id, details)


def _require_curator(author: PromptAuthor, prompt: SavedPrompt) -> None:
    """Shared prompts are curated by admins; a private one belongs to its owner."""
    if prompt.is_shared and not author.is_admin:
        raise PermissionDenied("Only an admin can change the organization's shared prompts.")
