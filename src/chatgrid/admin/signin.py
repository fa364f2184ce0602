"""Signing in and out: passwords checked under the login throttle, sessions started and ended.

Every sign-in is audited, failed or not, with the email that was tried; a
failure never says whether the account exists, neither in its answer nor in
its time: an unknown address (or one without a password) is checked against
a dummy argon2 hash made with the same parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatgrid.admin.sso import refuse_password
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import AuthenticationFailed, InvalidRequest, RateLimited
from chatgrid.identity.links import EmailNotVerified
from chatgrid.identity.passwords import (
    MAX_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    spend_verification_time,
    verify_password,
)
from chatgrid.identity.sessions import (
    SessionPolicy,
    SessionRecord,
    hash_session_id,
    needs_touch,
    new_csrf_token,
    new_session_id,
    session_expired,
)
from chatgrid.identity.signing import BrowserSigner
from chatgrid.identity.throttle import Attempt, LoginThrottle
from chatgrid.identity.users import (
    MAX_EMAIL_LENGTH,
    User,
    normalize_email,
    without_control_characters,
)
from chatgrid.store.account_links import AccountLinkRepository
from chatgrid.store.types import utcnow

WRONG_CREDENTIALS = "email or password is wrong"


class SignInFailed(AuthenticationFailed):
    default_code = "signin_failed"


class SignInThrottled(RateLimited):
    default_code = "signin_throttled"


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from, for sessions and the audit log."""

    addr: str | None
    user_agent: str | None
    #: The browser's device token as presented (checked against the email tried).
    device: str | None = None

    def actor(self, user: User | None, email: str | None = None) -> Actor:
        return Actor(
            user_id=user.id if user else None,
            email=user.email if user else (email or "anonymous"),
            client_addr=self.addr,
            user_agent=self.user_agent,
        )


def record_for_user(
    ctx: AppContext,
    user_id: str | None,
    actor: Actor,
    action: str,
    target: str | None,
    details: dict[str, object],
) -> None:
    """Audit an account event in every org the user belongs to (instance-wide if none)."""
    org_ids: list[str | None] = []
    if user_id:
        org_ids.extend(m.org_id for m in ctx.accounts.memberships(user_id))
    for org_id in org_ids or [None]:
        ctx.audit.record(org_id, actor, action, target, details)


def session_policy(ctx: AppContext) -> SessionPolicy:
    return SessionPolicy.from_minutes(
        ctx.settings.session_idle_minutes, ctx.settings.session_max_hours
    )


def browser_signer(ctx: AppContext) -> BrowserSigner:
    """The signer of pre-session tokens and device tokens, from the current master keys."""
    return BrowserSigner.from_master_keys(ctx.vault.keyring.keys)


def device_token(ctx: AppContext, user: User) -> str:
    """A device token for a browser the account just proved its password in."""
    return browser_signer(ctx).device_token(user.email)


def _attempt(ctx: AppContext, email: str, client: ClientInfo) -> Attempt:
    device = browser_signer(ctx).device_id(client.device, email) if client.device else None
    return Attempt(email, client.addr, device)


def authenticate(
    ctx: AppContext,
    throttle: LoginThrottle,
    email: str,
    password: str,
    client: ClientInfo,
    *,
    address_proven: bool = False,
    sso_break_glass: bool = False,
) -> User:
    """The user whose password this is, or ``SignInFailed`` / ``SignInThrottled``.

    An account whose address is not verified yet is ``EmailNotVerified`` even
    with the right password, unless the caller holds a link that was mailed
    to the address (``address_proven``: an invitation), which verifies it.
    """
    attempted = without_control_characters(email).strip().lower()[:MAX_EMAIL_LENGTH]
    attempt = _attempt(ctx, attempted, client)
    wait = throttle.retry_after(attempt)
    if wait is not None:
        _audit_failure(ctx, None, attempted, client, "throttled")
        minutes = max(1, round(wait / 60))
        raise SignInThrottled(
            f"too many failed sign-ins; try again in about {minutes} minute"
            + ("s" if minutes != 1 else ""),
            retry_after=wait,
        )
    if not sso_break_glass:  # an owner's recovery code follows (admin.sso_signin)
        refuse_password(ctx, attempted, client.actor(None, attempted))
    user = _find(ctx, attempted)
    stored = _checked_hash(ctx, user, password)
    if user is None or stored is None:
        throttle.failed(attempt)
        _audit_failure(ctx, user, attempted, client, "wrong_credentials")
        raise SignInFailed(WRONG_CREDENTIALS)
    if needs_rehash(stored):
        ctx.accounts.set_password(user.id, hash_password(password))
    throttle.succeeded(attempt)
    _check_verified(ctx, user, attempted, client, address_proven=address_proven)
    # With two-step sign-in on, only the code completes the sign-in (admin.second_step).
    second_step = ctx.second_factors.enabled(user.id)
    action = "signin.password_accepted" if second_step else "signin.succeeded"
    record_for_user(ctx, user.id, client.actor(user), action, user.id, {})
    return user


def _check_verified(
    ctx: AppContext, user: User, attempted: str, client: ClientInfo, *, address_proven: bool
) -> None:
    """No session for an unverified account (docs/identity.md); told only after its password."""
    links = AccountLinkRepository(ctx.engine)
    if not links.is_unverified(user.id):
        return
    if address_proven:
        if links.mark_verified(user.id):
            details: dict[str, object] = {"email": user.email, "by": "invitation"}
            record_for_user(
                ctx, user.id, client.actor(user), "account.email_verified", user.id, details
            )
        return
    _audit_failure(ctx, user, attempted, client, "email_not_verified")
    raise EmailNotVerified(
        "confirm your email address first: open the link we emailed to it when you signed "
        "up, or have it sent again"
    )


def verify_own_password(
    ctx: AppContext,
    throttle: LoginThrottle,
    user: User,
    password: str,
    client: ClientInfo,
    *,
    failed_action: str = "password.change_failed",
) -> None:
    """A signed-in user re-enters their password (to change it, or their second factor):
    throttled like a sign-in; a wrong one is audited as ``failed_action``."""
    attempt = _attempt(ctx, user.email, client)
    wait = throttle.retry_after(attempt)
    if wait is not None:
        raise SignInThrottled("too many wrong passwords; try again later", retry_after=wait)
    if _checked_hash(ctx, user, password) is None:
        throttle.failed(attempt)
        record_for_user(ctx, user.id, client.actor(user), failed_action, user.id, {})
        raise InvalidRequest(
            "the current password is not right", param="current_password", code="wrong_password"
        )


def _checked_hash(ctx: AppContext, user: User | None, password: str) -> str | None:
    """The user's stored hash if the password matches it, else None, in the same time."""
    stored = ctx.accounts.password_hash(user.id) if user else None
    if stored is None or len(password) > MAX_PASSWORD_LENGTH:
        spend_verification_time(password[:MAX_PASSWORD_LENGTH])
        return None
    return stored if verify_password(stored, password) else None


def _find(ctx: AppContext, attempted: str) -> User | None:
    try:
        return ctx.accounts.find_user(normalize_email(attempted))
    except InvalidRequest:
        return None


def _audit_failure(
    ctx: AppContext, user: User | None, attempted: str, client: ClientInfo, reason: str
) -> None:
    actor = client.actor(None, attempted)
    details: dict[str, object] = {"email": attempted, "reason": reason}
    record_for_user(ctx, user.id if user else None, actor, "signin.failed", None, details)


def start_session(
    ctx: AppContext, user: User, org_id: str | None, client: ClientInfo
) -> tuple[str, SessionRecord]:
    """A new session; the plain id goes in the cookie and nowhere else."""
    now = utcnow()
    policy = session_policy(ctx)
    session_id = new_session_id()
    record = SessionRecord(
        id_hash=hash_session_id(session_id),
        user_id=user.id,
        org_id=org_id,
        csrf_token=new_csrf_token(),
        created_at=now,
        last_seen_at=now,
        expires_at=policy.expires_at(now),
        client_addr=client.addr,
        user_agent=client.user_agent,
    )
    ctx.sessions.purge_expired(now)
    ctx.sessions.create(record)
    return session_id, record


def resolve_session(ctx: AppContext, session_id: str) -> tuple[SessionRecord, User] | None:
    """The live session behind a cookie, or None (an expired one is deleted on the way)."""
    if not session_id or len(session_id) > 200:
        return None
    found = ctx.sessions.lookup(hash_session_id(session_id))
    if found is None:
        return None
    record, user = found
    now = utcnow()
    policy = session_policy(ctx)
    if session_expired(record, policy, now):
        ctx.sessions.delete(record.id_hash)
        return None
    if needs_touch(record, policy, now):
        ctx.sessions.touch(record.id_hash, now)
    return record, user


def end_session(ctx: AppContext, record: SessionRecord, user: User, client: ClientInfo) -> None:
    ctx.sessions.delete(record.id_hash)
    record_for_user(ctx, user.id, client.actor(user), "signout", user.id, {})
