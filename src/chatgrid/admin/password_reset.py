"""Self-service password reset by a single-use link mailed to the address.

Asking answers the same for every address and does the same work: one email
to the address typed, holding the link if an account uses it, or a note that
none does (so the time an answer takes is that SMTP conversation's either
way). Asking is throttled per address and per client
(``identity.link_requests``). The link works once, for an hour; setting the
new password (the password policy applies) ends every session of the
account, spends the link and verifies the address, all in one transaction.
The new password is not a sign-in: whoever set it signs in next, with any
second step the account has.
"""

from __future__ import annotations

from chatgrid.admin.links import account_links, admit_request, mail_link, mail_note, usable_link
from chatgrid.admin.signin import ClientInfo, record_for_user
from chatgrid.context import AppContext
from chatgrid.identity.account_mail import no_account_email, reset_email
from chatgrid.identity.links import LinkPurpose, link_unusable
from chatgrid.identity.passwords import check_password_policy, hash_password
from chatgrid.identity.throttle import FailureCounter
from chatgrid.identity.users import User
from chatgrid.mail import Mailer
from chatgrid.store.types import utcnow


def request_password_reset(
    ctx: AppContext, mailer: Mailer | None, counter: FailureCounter, email: str, client: ClientInfo
) -> None:
    """Mail a reset link to the address's account, or a note that it has none.

    The caller answers the same whatever happened here. Audited
    (``account.password_reset_requested``) only for an existing account.
    """
    request = admit_request(ctx, mailer, counter, email, client, "password reset links")
    if request is None:
        return
    if request.user is None:
        mail_note(
            ctx, request.mailer, request.address, no_account_email, asked_for="a password reset"
        )
        return
    mail_link(ctx, request.mailer, request.user, LinkPurpose.RESET_PASSWORD, reset_email)
    record_for_user(
        ctx,
        request.user.id,
        client.actor(None, request.address),
        "account.password_reset_requested",
        request.user.id,
        {"email": request.address},
    )


def preview_reset(ctx: AppContext, token: str) -> User:
    """The account a reset link is for (its page asks for the new password)."""
    _link, user = usable_link(ctx, token, LinkPurpose.RESET_PASSWORD, utcnow())
    return user


def reset_password(ctx: AppContext, token: str, new_password: str, client: ClientInfo) -> User:
    """Set the new password from a reset link: every session ends, the link is spent.

    A password the policy refuses leaves the link as it was, to try again.
    """
    link, user = usable_link(ctx, token, LinkPurpose.RESET_PASSWORD, utcnow())
    check_password_policy(new_password, email=user.email)
    used = account_links(ctx).reset_password(link, hash_password(new_password), utcnow())
    if used is None:
        raise link_unusable()
    actor = client.actor(user)
    details: dict[str, object] = {"email": user.email, "sessions_ended": used.sessions_ended}
    record_for_user(ctx, user.id, actor, "account.password_reset", user.id, details)
    if used.verified_now:
        verified: dict[str, object] = {"email": user.email, "by": "password_reset"}
        record_for_user(ctx, user.id, actor, "account.email_verified", user.id, verified)
    return user
