"""Erasing a member (a GDPR request): what goes, what stays under a pseudonym, and how a
stored value is scrubbed of the person.

The person's own content goes: their conversations (with messages, images
and share links), their private collections and documents, their private
prompts, tokens, sessions, team places, budgets and pending invitations.
What the org must keep stays, under a pseudonym no one can trace back: the
seats they were billed for and every ledger row keep their money under a
fresh member id (the alias), the audit log keeps what happened with the
person's id, email and address taken out. When the account belongs to no
other org, the account goes too (its password, second factors, sign-in
links and identities).

The alias is random and recorded nowhere next to the old identifiers, so
the mapping dies with the erasure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The domain of the stand-in address left where an email was (RFC 2606: never delivered).
ERASED_DOMAIN = "erased.invalid"


@dataclass(frozen=True)
class Erasure:
    """One member's erasure: the identifiers to take out and what replaces them."""

    org_id: str
    member_id: str
    user_id: str
    email: str
    #: The member id their seats and ledger rows are kept under.
    alias: str
    #: The account belongs to no other org (and is not the operator's): it goes too.
    whole_account: bool

    @property
    def alias_email(self) -> str:
        """Where an email stood (a ``created_by``, an audit actor): a name for no one."""
        return f"erased-{self.alias}@{ERASED_DOMAIN}"

    def mentions(self, text: str) -> bool:
        lowered = text.lower()
        return any(ident.lower() in lowered for ident in self._identifiers())

    def scrub(self, value: Any) -> Any:
        """``value`` (a string, or JSON made of dicts and lists) with every mention of the
        person (member id, account id, email) replaced by the alias."""
        if isinstance(value, str):
            return self._scrub_text(value)
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        if isinstance(value, dict):
            return {self._scrub_text(str(k)): self.scrub(v) for k, v in value.items()}
        return value

    def _scrub_text(self, text: str) -> str:
        if not self.mentions(text):
            return text
        replaced = _replace_folded(text, self.email, self.alias_email)
        replaced = replaced.replace(self.member_id, self.alias)
        return replaced.replace(self.user_id, self.alias)

    def _identifiers(self) -> tuple[str, str, str]:
        return self.email, self.member_id, self.user_id


def _replace_folded(text: str, old: str, new: str) -> str:
    """Every occurrence of ``old`` in ``text``, whatever its case, replaced by ``new``
    (emails are compared without case)."""
    lowered, target = text.lower(), old.lower()
    out, start = [], 0
    while (found := lowered.find(target, start)) != -1:
        out.append(text[start:found])
        out.append(new)
        start = found + len(target)
    out.append(text[start:])
    return "".join(out)
