"""Accounts: the first operator, sign-up (an org, its owner and a trial), passwords.

Sign-up through the console (``request_sign_up``) answers the same whether or
not the address already has an account, in what it says and in the work it
does (an argon2 hash either way): a new address gets its account and org at
once, an existing one gets nothing, and both are told to sign in. Nobody is
signed in by signing up, or the answer would tell the two apart. Where the
instance can send mail, both also get one email: the new account its
confirmation link (it cannot sign in until the link is opened,
``admin.email_verification``), the existing one a note that someone tried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from chatgrid.admin.email_verification import mail_first_link
from chatgrid.admin.links import mail_note, ready_mailer
from chatgrid.admin.signin import (
    ClientInfo,
    record_for_user,
    start_session,
    verify_own_password,
)
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from chatgrid.identity.account_mail import existing_account_email
from chatgrid.identity.link_requests import LinkRequestThrottle
from chatgrid.identity.models import BillingMode, Member, Org
from chatgrid.identity.passwords import check_password_policy, hash_password
from chatgrid.identity.throttle import FailureCounter, LoginThrottle
from chatgrid.identity.users import User, check_org_name, normalize_email
from chatgrid.mail import Mailer
from chatgrid.store.account_links import unverified_mark
from chatgrid.store.types import utcnow

TRIAL_DAYS = 14


@dataclass(frozen=True)
class SignedUp:
    user: User
    org: Org
    owner: Member


def create_operator(
    ctx: AppContext, email: str, password: str | None, *, actor: Actor | None = None
) -> User:
    """Make a new operator account with this password, or make an existing account operator.

    The documented first step on a fresh instance (``chatgrid operator
    create EMAIL``, password on standard input). An existing account keeps
    its password and sessions: making someone operator must never reset a
    member's password (``reset_operator_password`` does that, for operators
    only), so a password given for an existing account is refused.
    """
    address = normalize_email(email)
    existing = ctx.accounts.find_user(address)
    if existing is None:
        if password is None:
            raise InvalidRequest(
                f"{address} has no account yet: give its password on standard input",
                param="password",
            )
        check_password_policy(password, email=address)
        user = ctx.accounts.create_user(address, hash_password(password), is_operator=True)
    else:
        if password is not None:
            raise Conflict(
                f"{address} already has an account; it keeps its password "
                "(`chatgrid operator reset-password` resets an operator's)",
                code="account_exists",
            )
        ctx.accounts.set_operator(existing.id, True)
        refreshed = ctx.accounts.get_user(existing.id)
        assert refreshed is not None
        user = refreshed
    ctx.audit.record(
        None,
        actor or Actor.cli(),
        "operator.created",
        user.id,
        {"email": address, "existing_account": existing is not None},
    )
    return user


def operator_account_exists(ctx: AppContext, email: str) -> bool:
    """Whether ``email`` already has an account (the CLI then reads no password)."""
    return ctx.accounts.find_user(normalize_email(email)) is not None


def reset_operator_password(
    ctx: AppContext, email: str, password: str, *, actor: Actor | None = None
) -> User:
    """Set a new password on an operator account and end its sessions (a lost password).

    Refused for an account that is not an operator: a member's password is
    theirs to change, never the command line's.
    """
    address = normalize_email(email)
    existing = ctx.accounts.find_user(address)
    if existing is None or not existing.is_operator:
        raise NotFound(f"{address} is not an operator account", code="operator_not_found")
    check_password_policy(password, email=address)
    ctx.accounts.set_password(existing.id, hash_password(password))
    ended = ctx.sessions.delete_for_user(existing.id)
    ctx.audit.record(
        None,
        actor or Actor.cli(),
        "operator.password_reset",
        existing.id,
        {"email": address, "sessions_ended": ended},
    )
    return existing


def sign_up(
    ctx: AppContext, *, email: str, password: str, org_name: str, client: ClientInfo
) -> SignedUp:
    """A new org on a 14-day trial (BYOK until its admin says otherwise), with its owner.

    For setting up instances and tests: an existing address is a ``Conflict``
    that names it, and the account is verified as made (no link is mailed).
    The console uses ``request_sign_up``, which never says.
    """
    if not ctx.settings.signup_enabled:
        raise PermissionDenied(
            "sign-up is closed on this instance; ask for an invitation", code="signup_closed"
        )
    address = normalize_email(email)
    name = check_org_name(org_name)
    check_password_policy(password, email=address)
    return _create_signed_up(ctx, address, hash_password(password), name, client)


def request_sign_up(
    ctx: AppContext,
    *,
    email: str,
    password: str,
    org_name: str,
    client: ClientInfo,
    mailer: Mailer | None,
    counter: FailureCounter,
) -> SignedUp | None:
    """Sign-up as the console offers it: the new org, or None when the address had an account.

    The caller must answer both outcomes alike. Every check that can refuse
    (sign-up closed, the address, the org name, the password policy, a
    client asking too often, a taken org name) runs first and the same way
    for both, so a refusal says nothing about the address either. An
    existing account is told through its orgs' audit logs
    (``signup.existing_account``) and, where mail is set up, by email; never
    in the answer. Mail to one address is throttled like every mailed link.
    """
    if not ctx.settings.signup_enabled:
        raise PermissionDenied(
            "sign-up is closed on this instance; ask for an invitation", code="signup_closed"
        )
    address = normalize_email(email)
    name = check_org_name(org_name)
    check_password_policy(password, email=address)
    verifying = ready_mailer(ctx, mailer)
    send = verifying is not None and LinkRequestThrottle(counter).admit(address, client.addr)
    hashed = hash_password(password)  # the same work whether the address is new or not
    ctx.accounts.check_org_name_free(name)
    existing = ctx.accounts.find_user(address)
    if existing is None:
        try:
            made = _create_signed_up(
                ctx, address, hashed, name, client, unverified=verifying is not None
            )
        except Conflict as exc:
            if exc.code != "account_exists":
                raise
            existing = ctx.accounts.find_user(address)
        else:
            if verifying is not None and send:
                mail_first_link(ctx, verifying, made.user, client)
            return made
    record_for_user(
        ctx,
        existing.id if existing else None,
        client.actor(None, address),
        "signup.existing_account",
        existing.id if existing else None,
        {"email": address, "org_name": name},
    )
    if verifying is not None and send:
        mail_note(ctx, verifying, address, existing_account_email)
    return None


def _create_signed_up(
    ctx: AppContext,
    address: str,
    hashed: str,
    name: str,
    client: ClientInfo,
    *,
    unverified: bool = False,
) -> SignedUp:
    """The account, its org and its ownership (and, ``unverified``, the mark that it waits
    for its address to be confirmed) in one transaction."""
    now = utcnow()
    user, org, owner = ctx.accounts.sign_up(
        address,
        hashed,
        name,
        trial_ends_at=now + timedelta(days=TRIAL_DAYS),
        also=unverified_mark(now) if unverified else None,
    )
    actor = client.actor(user)
    ctx.audit.record(org.id, actor, "signup", user.id, {"email": address})
    ctx.audit.record(org.id, actor, "org.created", org.id, {"name": name, "mode": "byok"})
    return SignedUp(user, org, owner)


def create_org(ctx: AppContext, user: User, name: str, client: ClientInfo) -> Org:
    """Another org, owned by a signed-in user (its trial starts now)."""
    if not ctx.settings.signup_enabled and not user.is_operator:
        raise PermissionDenied(
            "new organizations are created by the operator on this instance",
            code="signup_closed",
        )
    cleaned = check_org_name(name)
    org, _owner = ctx.accounts.create_org(
        cleaned,
        BillingMode.BYOK,
        owner_id=user.id,
        trial_ends_at=utcnow() + timedelta(days=TRIAL_DAYS),
    )
    ctx.audit.record(
        org.id, client.actor(user), "org.created", org.id, {"name": cleaned, "mode": "byok"}
    )
    return org


def change_password(
    ctx: AppContext,
    throttle: LoginThrottle,
    user: User,
    *,
    current: str,
    new: str,
    org_id: str | None,
    client: ClientInfo,
) -> str:
    """Check the current password, set the new one, end every session; return a fresh one.

    The browser that asked keeps working with the returned session id; every
    other session of this account is signed out at once.
    """
    verify_own_password(ctx, throttle, user, current, client)
    check_password_policy(new, email=user.email)
    if new == current:
        raise InvalidRequest(
            "the new password is the same as the current one", param="new_password"
        )
    ctx.accounts.set_password(user.id, hash_password(new))
    ended = ctx.sessions.delete_for_user(user.id)
    record_for_user(
        ctx, user.id, client.actor(user), "password.changed", user.id, {"sessions_ended": ended}
    )
    session_id, _record = start_session(ctx, user, org_id, client)
    return session_id
