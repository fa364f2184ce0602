import base64
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from chatgrid.settings import Settings
from chatgrid.vault import MasterKeyring, SecretUnreadable, Vault, load_keyring
from chatgrid.vault.keyring import KeyringError, rotate_keyring_file

SECRET = "sk-canary-0123456789abcdefWXYZ"


@pytest.fixture
def vault() -> Vault:
    return Vault(MasterKeyring({1: b"\x01" * 32}))


def test_a_sealed_secret_opens_only_for_its_own_record(vault: Vault) -> None:
    sealed = vault.seal(SECRET, binding="credential:org_a:cred_1")
    assert vault.open(sealed, binding="credential:org_a:cred_1") == SECRET
    with pytest.raises(SecretUnreadable):
        vault.open(sealed, binding="credential:org_b:cred_1")
    with pytest.raises(SecretUnreadable):
        vault.open(sealed, binding="credential:org_a:cred_2")


def test_sealed_secret_holds_no_plaintext(vault: Vault) -> None:
    sealed = vault.seal(SECRET, binding="pool:p1")
    blob = sealed.wrapped_key + sealed.nonce + sealed.ciphertext
    assert SECRET.encode() not in blob
    assert sealed.last4 == "WXYZ"
    assert sealed.fingerprint.startswith("fp_") and SECRET not in sealed.fingerprint


def test_every_seal_uses_a_fresh_data_key(vault: Vault) -> None:
    a = vault.seal(SECRET, binding="pool:p1")
    b = vault.seal(SECRET, binding="pool:p1")
    assert a.ciphertext != b.ciphertext and a.wrapped_key != b.wrapped_key
    assert a.fingerprint == b.fingerprint


def test_tampered_ciphertext_is_refused(vault: Vault) -> None:
    sealed = vault.seal(SECRET, binding="pool:p1")
    flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    with pytest.raises(SecretUnreadable):
        vault.open(replace(sealed, ciphertext=flipped), binding="pool:p1")


def test_rewrap_moves_to_the_new_master_and_keeps_the_ciphertext(vault: Vault) -> None:
    sealed = vault.seal(SECRET, binding="pool:p1")
    rotated = Vault(vault.keyring.with_new_version())
    rewrapped = rotated.rewrap(sealed, binding="pool:p1")
    assert rewrapped.master_key_version == 2
    assert rewrapped.ciphertext == sealed.ciphertext
    only_new = Vault(rotated.keyring.without_versions_below(2))
    assert only_new.open(rewrapped, binding="pool:p1") == SECRET
    with pytest.raises(SecretUnreadable):
        only_new.open(sealed, binding="pool:p1")


def test_keyring_from_environment_form() -> None:
    one, two = base64.b64encode(b"a" * 32).decode(), base64.b64encode(b"b" * 32).decode()
    ring = MasterKeyring.parse(f"1:{one}, 2:{two}")
    assert ring.current_version == 2
    with pytest.raises(KeyringError):
        MasterKeyring.parse("not-a-key")
    with pytest.raises(KeyringError):
        MasterKeyring.parse(f"1:{base64.b64encode(b'short').decode()}")


def test_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = load_keyring(settings)
    second = load_keyring(settings)
    assert first == second
    mode = stat.S_IMODE((tmp_path / "master.key").stat().st_mode)
    assert mode == 0o600
    rotated = rotate_keyring_file(settings)
    assert rotated.current_version == 2
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600
    assert load_keyring(settings) == rotated
