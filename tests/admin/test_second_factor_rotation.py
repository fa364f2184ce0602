"""``vault rotate-master`` rewraps TOTP seeds too, so retiring an old master never locks
anybody out of two-step sign-in."""

from __future__ import annotations

from datetime import UTC, datetime

from chatgrid.admin import keys, people, second_factor
from chatgrid.admin.signin import ClientInfo
from chatgrid.context import AppContext
from chatgrid.identity import totp
from chatgrid.identity.models import BillingMode, Role
from chatgrid.store.second_factor import seed_binding

NOW = datetime(2026, 11, 26, 12, 0, 10, tzinfo=UTC)


def test_seeds_are_rewrapped_and_the_old_master_retired(context: AppContext) -> None:
    org = people.create_org(context, "rotation", BillingMode.BYOK)
    member = people.add_member(context, org.id, "rot@example.com", Role.OWNER)
    user = context.accounts.get_user(member.user_id)
    assert user is not None
    secret = totp.new_secret()
    sealed = context.vault.seal(secret, binding=seed_binding(user.id))
    assert context.second_factors.begin(user.id, sealed, NOW)
    step = totp.time_step(NOW)
    assert context.second_factors.confirm(user.id, step, [], NOW)
    before = context.vault.keyring.current_version

    result = keys.rotate_master(context)

    assert result["rewrapped"] == 1 and result["retired_versions"] == 1
    assert context.second_factors.master_versions() == {before + 1}
    stored = context.second_factors.seed(user.id)
    assert stored is not None and stored.sealed.master_key_version == before + 1
    assert context.vault.open(stored.sealed, binding=seed_binding(user.id)) == secret
    later = NOW.replace(minute=5)
    code = totp.code_at_step(secret, totp.time_step(later))
    assert second_factor.check_code(context, user, code, _client(), later) == "totp"


def _client() -> ClientInfo:
    return ClientInfo(addr="203.0.113.9", user_agent="pytest")
