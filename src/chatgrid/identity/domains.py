"""Verified email domains: the rules, as pure functions (no DNS, no database).

An org admin claims a domain; ChatGrid answers with a TXT record to publish
at ``_chatgrid-challenge.<domain>``; a check that finds it there proves the
org controls the domain's DNS. Single sign-on and SCIM trust a domain only
once it is verified, so everything here errs on refusing: one spelling per
domain (lower case, IDNA, no trailing dot), no wildcards, no IP addresses,
no public suffixes (``com``, ``co.uk``, ``github.io``).
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import idna
from publicsuffixlist import PublicSuffixList

from chatgrid.errors import InvalidRequest
from chatgrid.identity.users import has_control_characters

CHALLENGE_LABEL = "_chatgrid-challenge"
RECORD_PREFIX = "chatgrid-domain-verification="
#: DNS names are at most 253 characters; the challenge name adds ``_chatgrid-challenge.``.
MAX_DOMAIN_LENGTH = 253 - len(CHALLENGE_LABEL) - 1
#: Claims one org may hold at once, verified or not, so no tenant can fill the table.
MAX_DOMAINS_PER_ORG = 50
#: Names that never resolve in public DNS (RFC 6761), so nothing there can be proven.
_NEVER_RESOLVED = ("localhost", "invalid")


class DomainNotProven(InvalidRequest):
    """The challenge record is not (yet) where the claim says it should be."""

    default_code = "domain_not_proven"


@dataclass(frozen=True)
class EmailDomain:
    """One org's claim on an email domain; ``verified_at`` is set once DNS proved it."""

    id: str
    org_id: str
    domain: str  # ASCII (punycode), lower case, no trailing dot
    token: str
    created_at: datetime
    created_by: str | None
    verified_at: datetime | None

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @property
    def status(self) -> str:
        return "verified" if self.verified else "pending"

    @property
    def display_name(self) -> str:
        return display_domain(self.domain)

    @property
    def record_name(self) -> str:
        return record_name(self.domain)

    @property
    def record_value(self) -> str:
        return record_value(self.token)


def _refuse(message: str) -> InvalidRequest:
    return InvalidRequest(message, param="domain", code="invalid_domain")


@cache
def _public_suffixes() -> PublicSuffixList:
    """The Public Suffix List the package ships (read once; nothing is downloaded)."""
    return PublicSuffixList()


def normalize_domain(raw: str) -> str:
    """The one spelling of a domain that claims are keyed by, or ``InvalidRequest``.

    ``Bücher.Example.`` and ``xn--bcher-kva.example`` are the same claim;
    full-width letters and dots map to ASCII first (IDNA's UTS 46 mapping),
    so a look-alike spelling cannot hold a second claim.
    """
    text = raw.strip()
    if not text or has_control_characters(text) or len(text) > 4 * MAX_DOMAIN_LENGTH:
        raise _refuse("enter a domain name like example.com")
    if "@" in text:
        raise _refuse("enter the domain only (example.com), not an email address")
    if "://" in text or "/" in text:
        raise _refuse("enter the domain only (example.com), without https:// or a path")
    if "*" in text:
        raise _refuse("a wildcard cannot be verified: claim each domain itself (example.com)")
    if _is_ip_address(text):
        raise _refuse("an IP address is not an email domain")
    try:
        ascii_name = idna.encode(text.removesuffix("."), uts46=True, std3_rules=True).decode()
    except (idna.IDNAError, UnicodeError) as exc:
        raise _refuse(f"{text!r} is not a valid domain name ({exc})") from None
    return _check_shape(ascii_name.lower())


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def _check_shape(name: str) -> str:
    labels = name.split(".")
    if len(name) > MAX_DOMAIN_LENGTH:
        raise _refuse(f"a domain name is at most {MAX_DOMAIN_LENGTH} characters here")
    if len(labels) < 2:
        raise _refuse(f"{name} is a top-level domain: claim your own domain under it")
    if labels[-1].isdigit():
        raise _refuse("an IP address is not an email domain")
    if labels[-1] in _NEVER_RESOLVED:
        raise _refuse(f"{name} can never be found in DNS, so it cannot be verified")
    if _public_suffixes().is_public(name):
        raise _refuse(
            f"{name} is a public suffix that many owners share: "
            f"claim your own domain under it (example.{name})"
        )
    return name


def display_domain(domain: str) -> str:
    """The Unicode spelling people recognise (``bücher.example``), for pages only."""
    try:
        return idna.decode(domain)
    except (idna.IDNAError, UnicodeError):
        return domain


def email_domain(email: str) -> str | None:
    """The normalized domain of an address, to look up who holds it; None if it has none."""
    _local, at, domain = email.strip().rpartition("@")
    if not at or not domain:
        return None
    try:
        return normalize_domain(domain)
    except InvalidRequest:
        return None


def new_challenge_token() -> str:
    """128 random bits: a claim nobody else made can never be matched by another's record."""
    return secrets.token_hex(16)


def record_name(domain: str) -> str:
    return f"{CHALLENGE_LABEL}.{domain}"


def record_value(token: str) -> str:
    return f"{RECORD_PREFIX}{token}"


def _cleaned(value: str) -> str:
    """A TXT value as a DNS panel may have stored it: surrounding quotes and spaces dropped."""
    return value.strip().strip('"').strip()


def check_proof(claim: EmailDomain, found: list[str]) -> None:
    """Raise ``DomainNotProven`` unless one of the TXT values found is this claim's own."""
    expected = claim.record_value
    if any(_cleaned(value) == expected for value in found):
        return
    where = claim.record_name
    if not found:
        raise DomainNotProven(
            f'no TXT record found at {where}: publish TXT "{expected}" there, '
            "wait for DNS to show it (minutes, or up to the record's TTL), then verify again",
            code="txt_record_missing",
        )
    if len(found) == 1:
        seen = f"the TXT value found at {where} is not this organization's"
    else:
        seen = f"none of the {len(found)} TXT values found at {where} is this organization's"
    raise DomainNotProven(
        f'{seen}: publish TXT "{expected}" there '
        "(a value made for another organization proves nothing for this one)",
        code="txt_record_mismatch",
    )
