"""The second step of a password sign-in: after the password, a code, then a session.

``after_password`` is what every door that checked a password calls instead
of starting a session itself (the sign-in form, ``POST /api/session``, an
invitation accepted with the account's password): an account without
two-step sign-in gets its session; one with it gets a pending second step
(``identity.second_step``), which only ``complete`` turns into a session.

Codes are throttled like passwords (``identity.throttle``), under keys of
their own: failures are counted per account and address, per address, per
account from clients it does not know, and per trusted device, so an
attacker who has the password still gets only a handful of guesses per
window, while the owner's own browser is never locked out by them. Each
pending step also dies after a few wrong codes. Every wrong code is an
audited ``signin.failed`` (reason ``wrong_code``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatgrid.admin.second_factor import check_code
from chatgrid.admin.signin import (
    ClientInfo,
    SignInThrottled,
    browser_signer,
    record_for_user,
    start_session,
)
from chatgrid.context import AppContext
from chatgrid.errors import AuthenticationFailed
from chatgrid.identity.second_step import (
    CHALLENGE_LIFETIME,
    Challenge,
    hash_challenge_id,
    new_challenge_id,
)
from chatgrid.identity.sessions import SessionRecord
from chatgrid.identity.signing import is_plausible_id
from chatgrid.identity.throttle import Attempt, LoginThrottle
from chatgrid.identity.users import User
from chatgrid.store.types import utcnow

STEP_EXPIRED = "the sign-in took too long or was not started here; enter your password again"
WRONG_CODE = (
    "that code is not right, or was used already: enter the code your app shows now, "
    "or one of your recovery codes"
)


class SecondStepFailed(AuthenticationFailed):
    default_code = "second_step_failed"


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: str
    record: SessionRecord


@dataclass(frozen=True)
class SecondStepPending:
    """The browser keeps ``challenge_id`` (a cookie) and sends a code next."""

    user: User
    challenge_id: str
    expires_at: datetime


def after_password(
    ctx: AppContext,
    user: User,
    org_id: str | None,
    client: ClientInfo,
    *,
    now: datetime | None = None,
) -> SignedIn | SecondStepPending:
    """A session for a password alone, or a pending second step if the account has one."""
    if not ctx.second_factors.enabled(user.id):
        session_id, record = start_session(ctx, user, org_id, client)
        return SignedIn(user, session_id, record)
    now = now or utcnow()
    challenge_id = new_challenge_id()
    expires_at = now + CHALLENGE_LIFETIME
    ctx.second_factors.create_challenge(
        Challenge(hash_challenge_id(challenge_id), user.id, org_id, now, expires_at, 0)
    )
    return SecondStepPending(user, challenge_id, expires_at)


def pending(ctx: AppContext, challenge_id: str | None, now: datetime) -> Challenge | None:
    """The live pending step behind a cookie, or None."""
    if not challenge_id or not is_plausible_id(challenge_id):
        return None
    challenge = ctx.second_factors.challenge(hash_challenge_id(challenge_id))
    return challenge if challenge is not None and challenge.usable(now) else None


def _attempt(ctx: AppContext, user: User, client: ClientInfo) -> Attempt:
    """Counted apart from passwords: a guessed code is not a guessed password."""
    device = browser_signer(ctx).device_id(client.device, user.email) if client.device else None
    return Attempt(f"second-step:{user.email}", client.addr, device)


def complete(
    ctx: AppContext,
    throttle: LoginThrottle,
    challenge_id: str | None,
    code: str,
    client: ClientInfo,
    *,
    now: datetime | None = None,
) -> SignedIn:
    """Exchange the pending step and a right code for a session (once)."""
    now = now or utcnow()
    challenge = pending(ctx, challenge_id, now)
    user = ctx.accounts.get_user(challenge.user_id) if challenge is not None else None
    if challenge is None or user is None:
        raise SecondStepFailed(STEP_EXPIRED, code="second_step_expired")
    attempt = _attempt(ctx, user, client)
    wait = throttle.retry_after(attempt)
    if wait is not None:
        _failed(ctx, user, client, "throttled")
        raise SignInThrottled("too many wrong codes; try again in a few minutes", retry_after=wait)
    how = check_code(ctx, user, code, client, now)
    if how is None:
        throttle.failed(attempt)
        ctx.second_factors.count_failure(challenge.id_hash)
        _failed(ctx, user, client, "wrong_code")
        raise SecondStepFailed(WRONG_CODE, param="code")
    if not ctx.second_factors.finish_challenge(challenge.id_hash):
        raise SecondStepFailed(STEP_EXPIRED, code="second_step_expired")
    throttle.succeeded(attempt)
    session_id, record = start_session(ctx, user, challenge.org_id, client)
    record_for_user(
        ctx, user.id, client.actor(user), "signin.succeeded", user.id, {"second_factor": how}
    )
    return SignedIn(user, session_id, record)


def _failed(ctx: AppContext, user: User, client: ClientInfo, reason: str) -> None:
    details: dict[str, object] = {"email": user.email, "reason": reason}
    record_for_user(ctx, user.id, client.actor(None, user.email), "signin.failed", None, details)
