"""Single-use links mailed to an address: confirming it, and resetting a forgotten password.

A link carries a random token; only its SHA-256 is stored, so a copy of the
database opens nothing. A link works once, for its own purpose only, and
until it expires: a day to confirm an address (the mail may wait overnight),
an hour to reset a password (a reset link is a password). Asking again
replaces the older link of the same purpose.

Every way a link can fail (unknown, malformed, used, replaced, expired, made
for the other purpose) gives the one same answer, so holding a dead link
tells nothing about the account it was for.

Both rules apply only where the instance can send mail (SMTP and the public
URL set, ``mail_ready``): nobody can prove an address otherwise.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from chatgrid.errors import ChatGridError, PermissionDenied
from chatgrid.settings import Settings

MAX_LINK_TOKEN_LENGTH = 200


class LinkPurpose(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose, not a secret)


#: Each purpose's token prefix (a token says what it is in a support ticket), page and lifetime.
TOKEN_PREFIX = {LinkPurpose.VERIFY_EMAIL: "cgv_", LinkPurpose.RESET_PASSWORD: "cgr_"}
LINK_PATH = {
    LinkPurpose.VERIFY_EMAIL: "/email/verify/",
    LinkPurpose.RESET_PASSWORD: "/password/reset/",
}
LIFETIME = {
    LinkPurpose.VERIFY_EMAIL: timedelta(hours=24),
    LinkPurpose.RESET_PASSWORD: timedelta(hours=1),
}


class LinkUnusable(ChatGridError):
    """A confirmation or reset link that does not work (one answer for every reason)."""

    status = 410
    error_type = "invalid_request_error"
    default_code = "link_unusable"


class EmailNotVerified(PermissionDenied):
    """The right password, for an address not confirmed yet: no session until it is."""

    default_code = "email_not_verified"


def link_unusable() -> LinkUnusable:
    return LinkUnusable(
        "this link does not work: it was used already, replaced by a newer one, or it "
        "expired; ask for a new one"
    )


@dataclass(frozen=True)
class AccountLink:
    id: str
    user_id: str
    purpose: LinkPurpose
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


def new_link_token(purpose: LinkPurpose) -> str:
    return TOKEN_PREFIX[purpose] + secrets.token_urlsafe(32)


def hash_link_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def token_hash_of(token: str, purpose: LinkPurpose) -> str:
    """The stored hash a token would have, or ``LinkUnusable`` for a token of no link."""
    if not token.startswith(TOKEN_PREFIX[purpose]) or len(token) > MAX_LINK_TOKEN_LENGTH:
        raise link_unusable()
    return hash_link_token(token)


def check_usable(link: AccountLink | None, purpose: LinkPurpose, now: datetime) -> AccountLink:
    if link is None or link.purpose is not purpose or link.used_at is not None:
        raise link_unusable()
    if now >= link.expires_at:
        raise link_unusable()
    return link


def mail_ready(settings: Settings) -> bool:
    """Whether this instance mails links: an SMTP server and the URL the links point at."""
    return settings.smtp_configured and settings.public_url is not None


def link_url(public_url: str, purpose: LinkPurpose, token: str) -> str:
    return public_url.rstrip("/") + LINK_PATH[purpose] + token
