"""Single sign-on rules that hold whatever the protocol: who may come in through an org's
identity provider, with which role, and what an admin may configure.

Pure values and functions. The protocols themselves live beside this
(``identity.oidc``, ``identity.saml``), the storage in ``store.sso`` and the
actions in ``admin.sso``. What these rules protect:

- an address counts only on a domain the org *verified* (a provider saying
  ``someone@gmail.com`` proves nothing about an org);
- a domain another org verified belongs to that org: its people are never
  made members of this one, whatever this org's provider says;
- the provider must vouch for the address (``email_verified``);
- a group maps to a role only through the admin's explicit map.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from chatgrid.errors import InvalidRequest, PermissionDenied
from chatgrid.identity.models import Role
from chatgrid.identity.users import has_control_characters
from chatgrid.vault import SealedSecret

MAX_GROUPS = 500
MAX_ROLE_MAP = 100
_ROLE_RANK = {Role.MEMBER: 0, Role.ADMIN: 1, Role.OWNER: 2}


class SsoProtocol(StrEnum):
    OIDC = "oidc"
    SAML = "saml"


class SsoSetupRefused(InvalidRequest):
    """The provider's settings do not work (discovery failed); the message says why."""

    default_code = "sso_setup_refused"


class SsoSignInRefused(PermissionDenied):
    """A single sign-on was refused; the message says why in plain words."""

    default_code = "sso_refused"


class SsoRequired(PermissionDenied):
    """Password sign-in refused: the address's org signs in through its identity provider."""

    default_code = "sso_required"


@dataclass(frozen=True)
class SsoConnection:
    """An org's identity provider, as configured (the secret stays sealed)."""

    id: str
    org_id: str
    protocol: SsoProtocol
    issuer: str
    client_id: str | None
    groups_claim: str | None
    role_map: Mapping[str, Role]
    default_role: Role
    enforced: bool
    sealed_secret: SealedSecret | None
    created_at: datetime
    updated_at: datetime
    updated_by: str | None
    settings: Mapping[str, object] = field(default_factory=dict)

    @property
    def secret_binding(self) -> str:
        return secret_binding(self.org_id, self.id)


def secret_binding(org_id: str, connection_id: str) -> str:
    """What the client secret's ciphertext is bound to: copied to another row, it won't open."""
    return f"sso:{org_id}:{connection_id}"


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in, after the protocol's checks passed."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    groups: tuple[str, ...] = ()


def shown_domain(email: str) -> str:
    """The domain of an address as typed, for messages (look-ups use
    ``identity.domains.email_domain``, which spells it as verified domains are kept)."""
    return email.rpartition("@")[2].strip().lower()


def parse_role(value: str, param: str = "default_role") -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise InvalidRequest(
            f"{value[:40]!r} is not a role: use member, admin or owner", param=param
        ) from None


def parse_role_map(pairs: Iterable[str]) -> dict[str, Role]:
    """``GROUP=ROLE`` pairs (one per item; the console splits lines) into a map."""
    result: dict[str, Role] = {}
    for raw in pairs:
        pair = raw.strip()
        if not pair:
            continue
        group, sep, role = pair.rpartition("=")
        group = group.strip()
        if not sep or not group or len(group) > 200 or has_control_characters(group):
            raise InvalidRequest(
                f"write each mapping as GROUP=ROLE, not {pair[:60]!r}", param="role_map"
            )
        result[group] = parse_role(role, "role_map")
    if len(result) > MAX_ROLE_MAP:
        raise InvalidRequest(f"at most {MAX_ROLE_MAP} group mappings", param="role_map")
    return result


def check_claim_name(name: str | None) -> str | None:
    """A claim's name as the admin typed it: short, printable, or none."""
    if name is None or not name.strip():
        return None
    name = name.strip()
    if len(name) > 100 or has_control_characters(name) or " " in name:
        raise InvalidRequest(
            "the groups claim is a claim name such as groups", param="groups_claim"
        )
    return name


def groups_of(value: object) -> tuple[str, ...]:
    """The groups a provider listed: a list of names (or one name); anything else is none."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(g for g in value[:MAX_GROUPS] if isinstance(g, str))


def role_for(groups: Iterable[str], role_map: Mapping[str, Role], default: Role) -> Role:
    """The highest role any of the person's groups maps to; the default when none does."""
    mapped = [role_map[g] for g in groups if g in role_map]
    return max(mapped, key=_ROLE_RANK.__getitem__) if mapped else default


def check_identity(identity: Identity, org_id: str, domain_owner: str | None) -> None:
    """May this person come into ``org_id`` through its provider? ``SsoSignInRefused`` if not.

    ``domain_owner`` is the org holding the address's domain verified (None
    when nobody does).
    """
    domain = shown_domain(identity.email)
    if not identity.email_verified:
        raise SsoSignInRefused(
            f"your identity provider did not confirm that {identity.email} is verified, so "
            "ChatGrid cannot trust it. Ask your administrator to mark it verified there.",
            code="sso_email_unverified",
        )
    if domain_owner is None:
        raise SsoSignInRefused(
            f"{domain} is not a verified domain of this organization, so its addresses "
            "cannot sign in through single sign-on. An admin can verify it under Domains.",
            code="sso_domain_unverified",
        )
    if domain_owner != org_id:
        raise SsoSignInRefused(
            f"{domain} belongs to another organization on this ChatGrid; its people sign in "
            "through that organization's identity provider, not this one.",
            code="sso_other_org",
        )
