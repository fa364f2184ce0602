"""Two-step sign-in of one's own account, its recovery codes, and the org rule requiring it.

Setting it up takes two requests: ``begin_setup`` seals a fresh seed (not on
yet) and shows it once; ``confirm_setup`` turns it on when a first code
proves the app has it and the password is entered again, and answers with
the ten recovery codes, shown once. Every other session of the account ends
then: they were opened with the password alone. Turning it off, and making
new recovery codes, ask for the password too (and turning it off for a code),
so a session left open on a shared computer cannot take the factor away.

The org rule: an org can require a second factor of its members who sign in
with a password. Checked on every request to the org's pages and API
(``check_org_rule``), so it holds at once, for sessions already open too;
API tokens are not sessions and are not affected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatgrid.admin.signin import ClientInfo, record_for_user, verify_own_password
from chatgrid.audit import Actor
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from chatgrid.identity import recovery_codes, totp
from chatgrid.identity.models import Org
from chatgrid.identity.sessions import SessionRecord
from chatgrid.identity.throttle import LoginThrottle
from chatgrid.identity.users import User, normalize_email
from chatgrid.store.second_factor import seed_binding
from chatgrid.store.types import utcnow
from chatgrid.vault import Vault


class SecondFactorRequired(PermissionDenied):
    default_code = "second_factor_required"


#: Where a member sets it up; the console sends them here when an org requires it.
SETUP_PAGE = "/account/two-step"


@dataclass(frozen=True)
class Enrolment:
    """What the set-up page shows, and nothing keeps in plain: the seed and its URI."""

    secret: str
    uri: str


@dataclass(frozen=True)
class SecondFactorStatus:
    enabled: bool
    since: datetime | None
    recovery_codes_left: int
    setup_pending: bool
    #: The user's orgs that require it, by name.
    required_by: list[str]


def status(ctx: AppContext, user: User) -> SecondFactorStatus:
    stored = ctx.second_factors.seed(user.id)
    enabled = stored is not None and stored.confirmed_at is not None
    return SecondFactorStatus(
        enabled=enabled,
        since=stored.confirmed_at if stored is not None else None,
        recovery_codes_left=ctx.second_factors.recovery_codes_left(user.id) if enabled else 0,
        setup_pending=stored is not None and not enabled,
        required_by=[
            m.org_name
            for m in ctx.accounts.memberships(user.id)
            if ctx.second_factors.required(m.org_id)
        ],
    )


def begin_setup(ctx: AppContext, user: User, *, now: datetime | None = None) -> Enrolment:
    """A fresh seed, sealed and kept unconfirmed (replacing an earlier unconfirmed one)."""
    if not user.has_password:
        raise InvalidRequest(
            "two-step sign-in protects a password, and this account has none",
            code="no_password",
        )
    secret = totp.new_secret()
    sealed = ctx.vault.seal(secret, binding=seed_binding(user.id))
    if not ctx.second_factors.begin(user.id, sealed, now or utcnow()):
        raise Conflict(
            "two-step sign-in is already on; to move it to a new device, turn it off first",
            code="second_factor_on",
        )
    return Enrolment(secret, totp.provisioning_uri(secret, user.email))


def pending_enrolment(ctx: AppContext, user: User) -> Enrolment | None:
    """The seed being set up, to show again after a mistyped code."""
    stored = ctx.second_factors.seed(user.id)
    if stored is None or stored.confirmed_at is not None:
        return None
    secret = ctx.vault.open(stored.sealed, binding=seed_binding(user.id))
    return Enrolment(secret, totp.provisioning_uri(secret, user.email))


def confirm_setup(
    ctx: AppContext,
    throttle: LoginThrottle,
    user: User,
    *,
    code: str,
    password: str,
    client: ClientInfo,
    session: SessionRecord | None,
    now: datetime | None = None,
) -> list[str]:
    """Turn it on; the new recovery codes (shown once). Other sessions of the account end."""
    now = now or utcnow()
    verify_own_password(
        ctx, throttle, user, password, client, failed_action="second_factor.password_failed"
    )
    stored = ctx.second_factors.seed(user.id)
    if stored is None or stored.confirmed_at is not None:
        raise Conflict(
            "there is no set-up in progress; start it again", code="no_second_factor_setup"
        )
    secret = ctx.vault.open(stored.sealed, binding=seed_binding(user.id))
    step = totp.accepted_step(secret, code, now, None)
    if step is None:
        raise InvalidRequest(
            "that is not the code the app shows now: check that the phone's clock is right, "
            "or scan the QR code again",
            param="code",
            code="wrong_code",
        )
    codes = recovery_codes.new_codes()
    hashes = [_hash(user.id, c) for c in codes]
    if not ctx.second_factors.confirm(user.id, step, hashes, now):
        raise Conflict("two-step sign-in is already on", code="second_factor_on")
    if session is not None:
        ended = ctx.sessions.delete_others(user.id, session.id_hash)
    else:
        ended = ctx.sessions.delete_for_user(user.id)
    details: dict[str, object] = {"sessions_ended": ended, "recovery_codes": len(codes)}
    record_for_user(ctx, user.id, client.actor(user), "second_factor.enabled", user.id, details)
    return codes


def new_recovery_codes(
    ctx: AppContext,
    throttle: LoginThrottle,
    user: User,
    *,
    password: str,
    client: ClientInfo,
    now: datetime | None = None,
) -> list[str]:
    """Ten new codes (shown once); every earlier code stops working."""
    verify_own_password(
        ctx, throttle, user, password, client, failed_action="second_factor.password_failed"
    )
    if not ctx.second_factors.enabled(user.id):
        raise Conflict("two-step sign-in is not on", code="second_factor_off")
    codes = recovery_codes.new_codes()
    ctx.second_factors.replace_recovery_codes(
        user.id, [_hash(user.id, c) for c in codes], now or utcnow()
    )
    record_for_user(
        ctx,
        user.id,
        client.actor(user),
        "second_factor.recovery_codes_created",
        user.id,
        {"count": len(codes)},
    )
    return codes


def disable(
    ctx: AppContext,
    throttle: LoginThrottle,
    user: User,
    *,
    password: str,
    code: str,
    client: ClientInfo,
    now: datetime | None = None,
) -> None:
    """Turn it off (seed and recovery codes gone): the password and a code, or a recovery code."""
    now = now or utcnow()
    verify_own_password(
        ctx, throttle, user, password, client, failed_action="second_factor.password_failed"
    )
    if not ctx.second_factors.enabled(user.id):
        raise Conflict("two-step sign-in is not on", code="second_factor_off")
    if check_code(ctx, user, code, client, now) is None:
        raise InvalidRequest(
            "that code is not right, or was used already", param="code", code="wrong_code"
        )
    ctx.second_factors.remove(user.id)
    record_for_user(ctx, user.id, client.actor(user), "second_factor.disabled", user.id, {})


def check_code(
    ctx: AppContext, user: User, typed: str, client: ClientInfo, now: datetime
) -> str | None:
    """Accept a code from the app or a recovery code, once: ``"totp"``, ``"recovery_code"``
    or None. A recovery code is spent and audited here, whoever asks (sign-in, turning the
    factor off, or an SSO break-glass)."""
    if recovery_codes.looks_like_a_recovery_code(typed):
        return "recovery_code" if spend_recovery_code(ctx, user, typed, client, now) else None
    stored = ctx.second_factors.seed(user.id)
    if stored is None or stored.confirmed_at is None:
        return None
    secret = ctx.vault.open(stored.sealed, binding=seed_binding(user.id))
    step = totp.accepted_step(secret, typed, now, stored.last_step)
    if step is None or not ctx.second_factors.accept_step(user.id, step):
        return None
    return "totp"


def spend_recovery_code(
    ctx: AppContext, user: User, typed: str, client: ClientInfo, now: datetime
) -> bool:
    """Use one recovery code up (True), or refuse one that is wrong or spent (False)."""
    hashed = recovery_codes.code_hash(user.id, typed)
    if hashed is None or not ctx.second_factors.spend_recovery_code(user.id, hashed, now):
        return False
    left = ctx.second_factors.recovery_codes_left(user.id)
    record_for_user(
        ctx,
        user.id,
        client.actor(user),
        "second_factor.recovery_code_used",
        user.id,
        {"left": left},
    )
    return True


def _hash(user_id: str, code: str) -> str:
    hashed = recovery_codes.code_hash(user_id, code)
    assert hashed is not None  # codes we just made are well formed
    return hashed


def reset(ctx: AppContext, email: str, *, actor: Actor) -> User:
    """The instance's operator turns someone's two-step sign-in off (lost phone and codes).

    Their sessions end too; they sign in with the password and, where an org
    requires it, set it up again.
    """
    user = ctx.accounts.find_user(normalize_email(email))
    if user is None:
        raise NotFound("no account with that address", code="user_not_found")
    removed = ctx.second_factors.remove(user.id)
    ended = ctx.sessions.delete_for_user(user.id)
    details: dict[str, object] = {"email": user.email, "was_on": removed, "sessions_ended": ended}
    record_for_user(ctx, user.id, actor, "second_factor.reset", user.id, details)
    return user


# The org rule


def set_org_rule(ctx: AppContext, org_id: str, actor: Actor, required: bool) -> bool:
    """Require (or stop requiring) two-step sign-in of the org's password users.

    An admin who signs in with a password turns it on only once their own
    account has it, so the rule never locks out the person setting it. True
    when the rule changed.
    """
    if required and actor.user_id is not None:
        admin = ctx.accounts.get_user(actor.user_id)
        if admin is not None and admin.has_password and not ctx.second_factors.enabled(admin.id):
            raise Conflict(
                "set up two-step sign-in for your own account first "
                f"({SETUP_PAGE}), then require it of the organization",
                code="second_factor_needed_first",
            )
    changed = ctx.second_factors.set_required(org_id, required, actor.email, utcnow())
    ctx.audit.record(org_id, actor, "org.second_factor_rule", org_id, {"required": required})
    return changed


def check_org_rule(ctx: AppContext, user: User, org: Org) -> None:
    """Refuse a password user without a second factor in an org that requires one.

    The rule comes with the org's row (``Org.requires_two_step``): the
    console checks it on every request, with no query of its own.
    """
    if user.has_password and org.requires_two_step and not ctx.second_factors.enabled(user.id):
        raise SecondFactorRequired(
            "this organization requires two-step sign-in: set it up on your account "
            f"({SETUP_PAGE}) to continue"
        )


@dataclass(frozen=True)
class MemberCoverage:
    member_id: str
    email: str
    role: str
    has_password: bool
    second_factor: bool


def org_coverage(ctx: AppContext, org_id: str) -> tuple[bool, list[MemberCoverage]]:
    """Whether the org requires it, and which active members have it."""
    members = [m for m in ctx.members.list(org_id) if m.status == "active"]
    passwords = ctx.second_factors.password_users_among([m.user_id for m in members])
    enabled = ctx.second_factors.enabled_among([m.user_id for m in members])
    return ctx.second_factors.required(org_id), [
        MemberCoverage(
            member_id=m.id,
            email=m.email,
            role=m.role.value,
            has_password=m.user_id in passwords,
            second_factor=m.user_id in enabled,
        )
        for m in members
    ]


def rewrap_seeds(ctx: AppContext, vault: Vault) -> tuple[int, list[str]]:
    """Every sealed seed under the vault's current master (``vault rotate-master``): how many
    were rewrapped, and the accounts whose seed would not open (left as they are)."""
    stored = [
        (user, seed_binding(user), sealed) for user, sealed in ctx.second_factors.all_sealed()
    ]
    return vault.rewrap_each(stored, ctx.second_factors.store_rewrapped)
