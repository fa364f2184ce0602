"""Email verification: an account made by signing up proves its address before it signs in.

The rule (docs/identity.md): where the instance can send mail, the account a
console sign-up creates is unverified until the link mailed to it is opened,
and an unverified account cannot sign in — the right password is answered
"confirm your address first", with a way to have the link sent again. Every
other way an account comes to be proves the address or is the operator's
doing (an accepted invitation, the command line), and an instance without
mail cannot prove addresses at all, so those accounts are verified as made.
The operator can verify an account by hand (``chatgrid user verify EMAIL``).

Asking for the link again answers the same for every address and sends one
email to it either way (the link, or a note that there is nothing to
confirm), throttled per address and per client (``identity.link_requests``).
"""

from __future__ import annotations

from chatgrid.admin.links import account_links, admit_request, mail_link, mail_note, usable_link
from chatgrid.admin.signin import ClientInfo, record_for_user
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import InvalidRequest, NotFound
from chatgrid.identity.account_mail import (
    already_verified_email,
    no_account_email,
    verification_email,
)
from chatgrid.identity.links import LinkPurpose, link_unusable
from chatgrid.identity.throttle import FailureCounter
from chatgrid.identity.users import User, normalize_email
from chatgrid.mail import Mailer
from chatgrid.store.types import utcnow


def mail_first_link(ctx: AppContext, mailer: Mailer, user: User, client: ClientInfo) -> None:
    """Mail a new account its first confirmation link.

    The account is already unverified: sign-up wrote the mark in the
    account's own transaction (``store.account_links.unverified_mark``). When
    the address has had its share of mail for now (``identity.link_requests``)
    the caller sends nothing: the account waits, and its owner asks for the
    link again from the sign-in page.
    """
    mail_link(ctx, mailer, user, LinkPurpose.VERIFY_EMAIL, verification_email)
    record_for_user(
        ctx,
        user.id,
        client.actor(user),
        "account.verification_sent",
        user.id,
        {"email": user.email},
    )


def is_unverified(ctx: AppContext, user: User) -> bool:
    return account_links(ctx).is_unverified(user.id)


def resend_verification(
    ctx: AppContext, mailer: Mailer | None, counter: FailureCounter, email: str, client: ClientInfo
) -> None:
    """Send the address a new confirmation link if its account waits for one (a note otherwise).

    The caller answers the same whatever happened here.
    """
    request = admit_request(ctx, mailer, counter, email, client, "confirmation links")
    if request is None:
        return
    ready, address, user = request.mailer, request.address, request.user
    if user is None:
        mail_note(ctx, ready, address, no_account_email, asked_for="a confirmation link")
    elif not is_unverified(ctx, user):
        mail_note(ctx, ready, address, already_verified_email)
    else:
        mail_link(ctx, ready, user, LinkPurpose.VERIFY_EMAIL, verification_email)
        record_for_user(
            ctx,
            user.id,
            client.actor(None, address),
            "account.verification_sent",
            user.id,
            {"email": address},
        )


def preview_verification(ctx: AppContext, token: str) -> User:
    """The account a confirmation link is for (its page shows the address and a button)."""
    _link, user = usable_link(ctx, token, LinkPurpose.VERIFY_EMAIL, utcnow())
    return user


def verify_email(ctx: AppContext, token: str, client: ClientInfo) -> User:
    """Open a confirmation link: the account is verified and the link is spent."""
    link, user = usable_link(ctx, token, LinkPurpose.VERIFY_EMAIL, utcnow())
    used = account_links(ctx).verify_email(link, utcnow())
    if used is None:
        raise link_unusable()
    if used.verified_now:
        _audit_verified(ctx, user, client.actor(user), "link")
    return user


def verify_by_operator(ctx: AppContext, email: str, *, actor: Actor) -> tuple[User, bool]:
    """The operator vouches for an address (an instance whose mail is down, a support case).

    Returns the account and whether it was unverified until now.
    """
    try:
        address = normalize_email(email)
    except InvalidRequest:
        address = email
    user = ctx.accounts.find_user(address)
    if user is None:
        raise NotFound(f"{address} has no account", code="account_not_found")
    changed = account_links(ctx).mark_verified(user.id)
    if changed:
        _audit_verified(ctx, user, actor, "operator")
    return user, changed


def _audit_verified(ctx: AppContext, user: User, actor: Actor, by: str) -> None:
    details: dict[str, object] = {"email": user.email, "by": by}
    record_for_user(ctx, user.id, actor, "account.email_verified", user.id, details)
