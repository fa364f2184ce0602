"""Mailing an account's single-use links, and finding the account behind one.

Shared by email verification and password reset: a link is issued (its hash
stored, the older one of its purpose replaced) and mailed to the account's
address in one step, so the plain token exists only in that email.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chatgrid.admin.signin import ClientInfo
from chatgrid.context import AppContext
from chatgrid.errors import PermissionDenied
from chatgrid.identity.account_mail import Mail
from chatgrid.identity.link_requests import LinkRequestThrottle
from chatgrid.identity.links import (
    LIFETIME,
    AccountLink,
    LinkPurpose,
    check_usable,
    hash_link_token,
    link_unusable,
    link_url,
    mail_ready,
    new_link_token,
    token_hash_of,
)
from chatgrid.identity.throttle import FailureCounter
from chatgrid.identity.users import User, normalize_email
from chatgrid.mail import Mailer
from chatgrid.store.account_links import AccountLinkRepository
from chatgrid.store.types import utcnow

Compose = Callable[..., Mail]


def account_links(ctx: AppContext) -> AccountLinkRepository:
    return AccountLinkRepository(ctx.engine)


def ready_mailer(ctx: AppContext, mailer: Mailer | None) -> Mailer | None:
    """The mailer when this instance mails links (SMTP and the public URL set), else None."""
    return mailer if mailer is not None and mail_ready(ctx.settings) else None


def required_mailer(ctx: AppContext, mailer: Mailer | None, what: str) -> Mailer:
    ready = ready_mailer(ctx, mailer)
    if ready is None:
        raise PermissionDenied(
            f"this instance does not send email, so it cannot send {what}; ask whoever runs "
            "it (the operator)",
            code="mail_not_configured",
        )
    return ready


@dataclass(frozen=True)
class AddressRequest:
    """Someone typed an address to have a link mailed to it, and may have one mailed."""

    mailer: Mailer
    address: str
    user: User | None  # the account using the address, if any


def admit_request(
    ctx: AppContext,
    mailer: Mailer | None,
    counter: FailureCounter,
    email: str,
    client: ClientInfo,
    what: str,
) -> AddressRequest | None:
    """The same start for every address: None when it has had its share of mail for now."""
    ready = required_mailer(ctx, mailer, what)
    address = normalize_email(email)
    if not LinkRequestThrottle(counter).admit(address, client.addr):
        return None
    return AddressRequest(ready, address, ctx.accounts.find_user(address))


def base_url(ctx: AppContext) -> str:
    assert ctx.settings.public_url is not None  # checked by ready_mailer
    return ctx.settings.public_url.rstrip("/")


def mail_link(
    ctx: AppContext, mailer: Mailer, user: User, purpose: LinkPurpose, compose: Compose
) -> AccountLink:
    """Issue a new link of this purpose and mail it to the account's address."""
    now = utcnow()
    token = new_link_token(purpose)
    link = account_links(ctx).issue(
        user.id, purpose, hash_link_token(token), now=now, expires_at=now + LIFETIME[purpose]
    )
    subject, body = compose(
        link=link_url(base_url(ctx), purpose, token), expires_at=link.expires_at
    )
    mailer.send(to=user.email, subject=subject, body=body)
    return link


def mail_note(
    ctx: AppContext, mailer: Mailer, address: str, compose: Compose, **extra: str
) -> None:
    """A mail without a link (what is true about the address), sent like a link would be."""
    subject, body = compose(base_url=base_url(ctx), **extra)
    mailer.send(to=address, subject=subject, body=body)


def usable_link(
    ctx: AppContext, token: str, purpose: LinkPurpose, now: datetime
) -> tuple[AccountLink, User]:
    """The live link behind a token and its account, or the one ``LinkUnusable`` answer."""
    link = check_usable(account_links(ctx).find(token_hash_of(token, purpose)), purpose, now)
    user = ctx.accounts.get_user(link.user_id)
    if user is None:
        raise link_unusable()
    return link, user
