"""Accounts, sign-in, sessions, members and invitations through the admin functions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from chatgrid.admin import accounts, members, people
from chatgrid.admin.signin import (
    SignInFailed,
    SignInThrottled,
    authenticate,
    resolve_session,
    start_session,
)
from chatgrid.audit import Actor, AuditFilter
from chatgrid.context import AppContext
from chatgrid.errors import Conflict, InvalidRequest, NotFound, PermissionDenied
from chatgrid.identity.invitations import InvitationUnusable
from chatgrid.identity.models import BillingMode, Role
from chatgrid.identity.passwords import WeakPassword
from chatgrid.identity.throttle import LoginThrottle, MemoryCounter, ThrottlePolicy
from chatgrid.identity.tokens import hash_token
from chatgrid.mail import MailFailed
from chatgrid.store.tables import sessions
from chatgrid.store.types import utcnow
from tests.support.console import CLIENT, PASSWORD, World, unique


def new_throttle() -> LoginThrottle:
    return LoginThrottle(MemoryCounter(900), ThrottlePolicy())


def actions(ctx: AppContext, org_id: str | None) -> list[str]:
    return [e.action for e in ctx.audit.entries(org_id, AuditFilter())]


class Outbox:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[dict[str, str]] = []
        self.fail = fail

    def send(self, *, to: str, subject: str, body: str) -> None:
        if self.fail:
            raise MailFailed("the SMTP server said no")
        self.sent.append({"to": to, "subject": subject, "body": body})


def test_sign_up_makes_an_org_on_a_14_day_trial_and_its_owner(context: AppContext) -> None:
    made = accounts.sign_up(
        context, email=" Alice@Example.COM ", password=PASSWORD, org_name="Acme", client=CLIENT
    )
    assert made.user.email == "alice@example.com" and made.owner.role is Role.OWNER
    org = context.orgs.by_id(made.org.id)
    trial_ends = org.trial_ends_at
    assert org.billing_mode is BillingMode.BYOK
    assert trial_ends is not None
    assert timedelta(days=13, hours=23) < trial_ends - utcnow() <= timedelta(days=14)
    assert context.members.count_active(made.org.id) == 1
    assert actions(context, made.org.id) == ["org.created", "signup"]
    entry = context.audit.entries(made.org.id, AuditFilter(action="signup"))[0]
    assert entry.client_addr == CLIENT.addr and entry.user_agent == CLIENT.user_agent


@pytest.mark.parametrize(
    ("email", "password", "org_name", "error"),
    [
        ("not-an-email", PASSWORD, "Acme 2", InvalidRequest),
        ("new@example.com", "password1", "Acme 2", WeakPassword),
        ("new@example.com", PASSWORD, "", InvalidRequest),
        ("new@example.com", PASSWORD, "org_0123456789abcdef0123", InvalidRequest),
        ("new@example.com", PASSWORD, "Acme", Conflict),  # the name is taken
        ("alice@example.com", PASSWORD, "Other", Conflict),  # so is the account
    ],
)
def test_sign_up_refuses_bad_or_clashing_input(
    context: AppContext, email: str, password: str, org_name: str, error: type[Exception]
) -> None:
    accounts.sign_up(
        context, email="alice@example.com", password=PASSWORD, org_name="Acme", client=CLIENT
    )
    with pytest.raises(error):
        accounts.sign_up(context, email=email, password=password, org_name=org_name, client=CLIENT)
    assert len(context.orgs.list()) == 1


def test_sign_up_can_be_closed(context: AppContext) -> None:
    context.settings.signup_enabled = False
    with pytest.raises(PermissionDenied, match="closed"):
        accounts.sign_up(
            context, email="a@example.com", password=PASSWORD, org_name="Acme", client=CLIENT
        )


def test_the_first_operator_is_made_with_a_password(context: AppContext) -> None:
    operator = people.create_operator(context, "ops@example.com", PASSWORD)
    assert operator.is_operator and operator.has_password
    assert authenticate(context, new_throttle(), "ops@example.com", PASSWORD, CLIENT).id == (
        operator.id
    )
    assert "operator.created" in actions(context, None)
    with pytest.raises(WeakPassword):
        people.create_operator(context, "ops2@example.com", "12345678")
    # An existing account is promoted and keeps its password and sessions; resetting an
    # operator's password is its own action, and ends them.
    session_id, _ = start_session(context, operator, None, CLIENT)
    with pytest.raises(Conflict):
        people.create_operator(context, "ops@example.com", "another good passphrase")
    again = people.create_operator(context, "ops@example.com", None)
    assert again.id == operator.id
    assert resolve_session(context, session_id) is not None
    accounts.reset_operator_password(context, "ops@example.com", "another good passphrase")
    assert resolve_session(context, session_id) is None


def test_a_wrong_password_and_an_unknown_email_fail_alike(context: AppContext) -> None:
    made = accounts.sign_up(
        context, email="alice@example.com", password=PASSWORD, org_name="Acme", client=CLIENT
    )
    throttle = new_throttle()
    with pytest.raises(SignInFailed) as wrong:
        authenticate(context, throttle, "alice@example.com", "not it at all", CLIENT)
    with pytest.raises(SignInFailed) as unknown:
        authenticate(context, throttle, "nobody@example.com", "not it at all", CLIENT)
    assert wrong.value.message == unknown.value.message == "email or password is wrong"
    assert wrong.value.status == unknown.value.status == 401
    assert authenticate(context, throttle, "ALICE@example.com", PASSWORD, CLIENT).id == made.user.id
    failures = context.audit.entries(made.org.id, AuditFilter(action="signin.failed"))
    assert failures[0].details["email"] == "alice@example.com"
    assert failures[0].client_addr == CLIENT.addr
    elsewhere = context.audit.entries(None, AuditFilter(action="signin.failed"))
    assert elsewhere[0].details["email"] == "nobody@example.com"
    assert "signin.succeeded" in actions(context, made.org.id)


def test_after_five_failures_even_the_right_password_waits(context: AppContext) -> None:
    accounts.sign_up(
        context, email="alice@example.com", password=PASSWORD, org_name="Acme", client=CLIENT
    )
    throttle = new_throttle()
    for _ in range(5):
        with pytest.raises(SignInFailed):
            authenticate(context, throttle, "alice@example.com", "wrong guess here", CLIENT)
    with pytest.raises(SignInThrottled) as throttled:
        authenticate(context, throttle, "alice@example.com", PASSWORD, CLIENT)
    assert throttled.value.status == 429 and throttled.value.retry_after
    assert "too many failed sign-ins" in throttled.value.message


def test_sessions_end_when_idle_or_old(context: AppContext) -> None:
    made = accounts.sign_up(
        context, email="alice@example.com", password=PASSWORD, org_name="Acme", client=CLIENT
    )
    idle_id, idle = start_session(context, made.user, made.org.id, CLIENT)
    old_id, old = start_session(context, made.user, made.org.id, CLIENT)
    live_id, _ = start_session(context, made.user, made.org.id, CLIENT)
    now = utcnow()
    with context.engine.begin() as conn:
        conn.execute(
            update(sessions)
            .where(sessions.c.id_hash == idle.id_hash)
            .values(last_seen_at=now - timedelta(minutes=context.settings.session_idle_minutes))
        )
        conn.execute(
            update(sessions)
            .where(sessions.c.id_hash == old.id_hash)
            .values(expires_at=now - timedelta(seconds=1))
        )
    assert resolve_session(context, idle_id) is None
    assert resolve_session(context, old_id) is None
    assert resolve_session(context, live_id) is not None
    assert context.sessions.count_for_user(made.user.id) == 1  # the ended ones are gone


def test_changing_the_password_ends_every_other_session(context: AppContext) -> None:
    made = accounts.sign_up(
        context, email="alice@example.com", password=PASSWORD, org_name="Acme", client=CLIENT
    )
    laptop, _ = start_session(context, made.user, made.org.id, CLIENT)
    phone, _ = start_session(context, made.user, made.org.id, CLIENT)
    with pytest.raises(InvalidRequest, match="current password"):
        accounts.change_password(
            context,
            new_throttle(),
            made.user,
            current="wrong one!",
            new="a new passphrase",
            org_id=made.org.id,
            client=CLIENT,
        )
    fresh = accounts.change_password(
        context,
        new_throttle(),
        made.user,
        current=PASSWORD,
        new="a new passphrase",
        org_id=made.org.id,
        client=CLIENT,
    )
    assert resolve_session(context, laptop) is None
    assert resolve_session(context, phone) is None
    assert resolve_session(context, fresh) is not None
    assert authenticate(context, new_throttle(), "alice@example.com", "a new passphrase", CLIENT)
    assert "password.changed" in actions(context, made.org.id)


def test_removing_a_member_revokes_their_tokens_and_ends_their_sessions(world: World) -> None:
    ctx = world.ctx
    org = ctx.orgs.by_id(world.org_a)
    _, plain = people.create_token(ctx, world.org_a, world.dave.email)
    dave = ctx.accounts.get_user(world.dave.user_id)
    assert dave is not None
    session_id, _ = start_session(ctx, dave, world.org_a, CLIENT)
    alice = ctx.members.get(world.org_a, str(world.alice.member_id))
    removal = members.remove_member(
        ctx, org, alice, Actor(world.alice.user_id, world.alice.email), str(world.dave.member_id)
    )
    assert removal.tokens_revoked == 2 and removal.sessions_ended >= 1
    assert resolve_session(ctx, session_id) is None
    owner = ctx.tokens.owner_of(hash_token(plain))
    assert owner is not None and not owner.usable
    assert ctx.members.count_active(world.org_a) == 2
    entry = ctx.audit.entries(world.org_a, AuditFilter(action="member.removed"))[0]
    assert entry.details["email"] == world.dave.email and entry.details["tokens_revoked"] == 2


def test_role_rules_hold_against_stored_state(world: World) -> None:
    ctx = world.ctx
    org = ctx.orgs.by_id(world.org_a)
    alice = ctx.members.get(world.org_a, str(world.alice.member_id))
    actor = Actor(world.alice.user_id, world.alice.email)
    with pytest.raises(Conflict, match="last owner"):
        members.change_role(ctx, org, alice, actor, alice.id, Role.ADMIN)
    with pytest.raises(Conflict, match="last owner"):
        members.remove_member(ctx, org, alice, actor, alice.id)
    bob = members.change_role(ctx, org, alice, actor, str(world.bob.member_id), Role.ADMIN)
    with pytest.raises(PermissionDenied):
        members.change_role(ctx, org, bob, actor, bob.id, Role.OWNER)
    with pytest.raises(PermissionDenied):
        members.remove_member(ctx, org, bob, actor, alice.id)
    with pytest.raises(NotFound):  # a member of another org is not found here
        members.remove_member(ctx, org, alice, actor, str(world.charlie.member_id))
    members.change_role(ctx, org, alice, actor, bob.id, Role.OWNER)
    members.change_role(ctx, org, alice, actor, alice.id, Role.MEMBER)  # two owners: allowed
    assert ctx.accounts.count_owners(world.org_a) == 1


def invite(world: World, email: str, *, mailer: Outbox | None = None) -> str | None:
    ctx = world.ctx
    org = ctx.orgs.by_id(world.org_a)
    alice = ctx.members.get(world.org_a, str(world.alice.member_id))
    issued = members.invite(
        ctx,
        org,
        alice,
        Actor(alice.user_id, alice.email),
        email=email,
        role=Role.MEMBER,
        link_base="http://testserver",
        mailer=mailer,
    )
    return issued.link.rsplit("/", 1)[1] if issued.link else None


def test_a_link_invitation_makes_an_account_once(world: World) -> None:
    ctx = world.ctx
    email = unique("erin")
    token = invite(world, email)
    assert token is not None
    with pytest.raises(WeakPassword):
        members.accept_invitation(
            ctx, new_throttle(), token, password="password", signed_in=None, client=CLIENT
        )
    user, member = members.accept_invitation(
        ctx, new_throttle(), token, password=PASSWORD, signed_in=None, client=CLIENT
    )
    assert member.org_id == world.org_a and member.role is Role.MEMBER and user.has_password
    with pytest.raises(InvitationUnusable, match="already been used"):
        members.accept_invitation(
            ctx, new_throttle(), token, password=PASSWORD, signed_in=None, client=CLIENT
        )
    with pytest.raises(NotFound):
        members.preview_invitation(ctx, "cgi_forged", None)
    assert {"invitation.created", "invitation.accepted"} <= set(actions(ctx, world.org_a))


def test_an_existing_account_must_sign_in_to_accept(world: World) -> None:
    ctx = world.ctx
    token = invite(world, world.charlie.email)
    assert token is not None
    with pytest.raises(SignInFailed):
        members.accept_invitation(
            ctx, new_throttle(), token, password="someone else's", signed_in=None, client=CLIENT
        )
    user, member = members.accept_invitation(
        ctx, new_throttle(), token, password=PASSWORD, signed_in=None, client=CLIENT
    )
    assert user.id == world.charlie.user_id and member.org_id == world.org_a
    # Charlie's password and org B are untouched.
    assert authenticate(ctx, new_throttle(), world.charlie.email, PASSWORD, CLIENT)
    assert ctx.accounts.membership(world.charlie.user_id, world.org_b) is not None


def test_a_link_cannot_claim_a_password_less_account_of_another_org(world: World) -> None:
    ctx = world.ctx
    email = unique("frank")
    people.add_member(ctx, world.org_b, email, Role.MEMBER)  # from the CLI, no password
    token = invite(world, email)
    assert token is not None
    with pytest.raises(PermissionDenied, match="another organization"):
        members.accept_invitation(
            ctx, new_throttle(), token, password=PASSWORD, signed_in=None, client=CLIENT
        )
    frank = ctx.accounts.find_user(email)
    assert frank is not None and not frank.has_password


def test_a_member_added_from_the_cli_is_invited_to_set_a_password(world: World) -> None:
    ctx = world.ctx
    email = unique("gina")
    member = people.add_member(ctx, world.org_a, email, Role.ADMIN)
    token = invite(world, email)
    assert token is not None
    user, again = members.accept_invitation(
        ctx, new_throttle(), token, password=PASSWORD, signed_in=None, client=CLIENT
    )
    assert again.id == member.id and again.role is Role.ADMIN  # the role is kept
    assert authenticate(ctx, new_throttle(), email, PASSWORD, CLIENT).id == user.id
    with pytest.raises(Conflict, match="already a member"):
        invite(world, email)


def test_an_emailed_invitation_is_never_shown_to_the_admin(world: World) -> None:
    ctx = world.ctx
    ctx.settings.public_url = "https://chatgrid.example.com"
    outbox = Outbox()
    email = unique("hana")
    assert invite(world, email, mailer=outbox) is None
    [message] = outbox.sent
    assert message["to"] == email
    assert "https://chatgrid.example.com/join/cgi_" in message["body"]
    assert "invitation.sent" in actions(ctx, world.org_a)
    # A failed send withdraws the invitation it made.
    with pytest.raises(MailFailed):
        invite(world, unique("ivan"), mailer=Outbox(fail=True))
    assert [i.email for i in ctx.invitations.pending(world.org_a, utcnow())].count(email) == 1
    assert all("ivan" not in i.email for i in ctx.invitations.pending(world.org_a, utcnow()))
