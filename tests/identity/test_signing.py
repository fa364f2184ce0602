"""Pre-session tokens and device tokens: only this server makes them, each for one thing."""

from __future__ import annotations

import secrets

from chatgrid.identity.signing import BrowserSigner, new_presession_id

OLD, NEW = secrets.token_bytes(32), secrets.token_bytes(32)


def test_a_presession_token_is_the_servers_hmac_of_that_presession_only() -> None:
    signer = BrowserSigner.from_master_keys({1: OLD})
    mine, theirs = new_presession_id(), new_presession_id()
    token = signer.presession_token(mine)
    assert signer.presession_token_matches(mine, token)
    assert not signer.presession_token_matches(theirs, token)
    assert not signer.presession_token_matches(mine, mine)  # cookie == header proves nothing
    assert not signer.presession_token_matches("short", signer.presession_token("short"))
    assert not signer.presession_token_matches(None, token)
    other_instance = BrowserSigner.from_master_keys({1: NEW})
    assert not other_instance.presession_token_matches(mine, token)


def test_tokens_made_before_a_master_key_rotation_still_check() -> None:
    before = BrowserSigner.from_master_keys({1: OLD})
    after = BrowserSigner.from_master_keys({1: OLD, 2: NEW})
    presession = new_presession_id()
    assert after.presession_token_matches(presession, before.presession_token(presession))
    device = before.device_token("alice@example.com")
    assert after.device_id(device, "alice@example.com") is not None
    # Once the old version leaves the ring, what it signed stops working.
    assert BrowserSigner.from_master_keys({2: NEW}).device_id(device, "alice@example.com") is None


def test_a_device_token_belongs_to_one_account() -> None:
    signer = BrowserSigner.from_master_keys({1: OLD})
    token = signer.device_token("alice@example.com")
    device = signer.device_id(token, "alice@example.com")
    assert device is not None and device in token
    assert signer.device_id(token, "bob@example.com") is None
    assert signer.device_token("alice@example.com") != token  # one per browser
    prefix, nonce, mac = token.split(".")
    assert signer.device_id(f"{prefix}.{nonce}x.{mac}", "alice@example.com") is None
    for garbage in ("", "d1", "d1..", "x" * 500, "d1.a.b"):
        assert signer.device_id(garbage, "alice@example.com") is None
