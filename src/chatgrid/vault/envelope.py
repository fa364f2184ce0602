"""Seal and open secrets: a fresh AES-256-GCM data key per secret.

The associated data binds each ciphertext to the row it belongs to (for a
credential, its org and id), so a blob copied into another org's row fails
to open instead of quietly serving the wrong org.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chatgrid.vault.keyring import KeyringError, MasterKeyring

_NONCE_BYTES = 12


class SecretUnreadable(Exception):
    """A sealed secret failed to open: tampered, moved to another row, or an unknown master."""


@dataclass(frozen=True)
class SealedSecret:
    fingerprint: str
    last4: str
    wrapped_key: bytes
    master_key_version: int
    nonce: bytes
    ciphertext: bytes


def fingerprint_of(secret: str) -> str:
    """A short, stable name for a key that reveals nothing usable about it."""
    return "fp_" + hashlib.sha256(secret.encode()).hexdigest()[:16]


def _wrap_aad(version: int, binding: str) -> bytes:
    return f"chatgrid/data-key/v{version}/{binding}".encode()


def _secret_aad(binding: str) -> bytes:
    return f"chatgrid/secret/{binding}".encode()


class Vault:
    """Seals with the keyring's current version; opens with whichever wrapped it."""

    def __init__(self, keyring: MasterKeyring) -> None:
        self.keyring = keyring

    def seal(self, secret: str, *, binding: str) -> SealedSecret:
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        ciphertext = AESGCM(data_key).encrypt(nonce, secret.encode(), _secret_aad(binding))
        version = self.keyring.current_version
        return SealedSecret(
            fingerprint=fingerprint_of(secret),
            last4=secret[-4:],
            wrapped_key=self._wrap(data_key, version, binding),
            master_key_version=version,
            nonce=nonce,
            ciphertext=ciphertext,
        )

    def open(self, sealed: SealedSecret, *, binding: str) -> str:
        data_key = self._unwrap(sealed.wrapped_key, sealed.master_key_version, binding)
        try:
            plain = AESGCM(data_key).decrypt(sealed.nonce, sealed.ciphertext, _secret_aad(binding))
        except InvalidTag:
            raise SecretUnreadable("the secret does not belong to this record") from None
        return plain.decode()

    def rewrap(self, sealed: SealedSecret, *, binding: str) -> SealedSecret:
        """Wrap the same data key under the current master; the ciphertext is untouched."""
        data_key = self._unwrap(sealed.wrapped_key, sealed.master_key_version, binding)
        version = self.keyring.current_version
        return SealedSecret(
            fingerprint=sealed.fingerprint,
            last4=sealed.last4,
            wrapped_key=self._wrap(data_key, version, binding),
            master_key_version=version,
            nonce=sealed.nonce,
            ciphertext=sealed.ciphertext,
        )

    def rewrap_each(
        self,
        stored: Iterable[tuple[str, str, SealedSecret | None]],
        save: Callable[[str, SealedSecret], None],
    ) -> tuple[int, list[str]]:
        """Each ``(name, binding, sealed)`` not yet under the current master rewrapped and
        handed to ``save(name, fresh)`` (``vault rotate-master``): how many were, and the
        names whose secret would not open (left as they are)."""
        rewrapped, unreadable = 0, []
        for name, binding, sealed in stored:
            if sealed is None or sealed.master_key_version == self.keyring.current_version:
                continue
            try:
                fresh = self.rewrap(sealed, binding=binding)
            except SecretUnreadable:
                unreadable.append(name)
                continue
            save(name, fresh)
            rewrapped += 1
        return rewrapped, unreadable

    def _wrap(self, data_key: bytes, version: int, binding: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        master = AESGCM(self.keyring.key(version))
        return nonce + master.encrypt(nonce, data_key, _wrap_aad(version, binding))

    def _unwrap(self, wrapped: bytes, version: int, binding: str) -> bytes:
        try:
            master = AESGCM(self.keyring.key(version))
        except KeyringError as exc:
            raise SecretUnreadable(str(exc)) from None
        nonce, body = wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:]
        try:
            return master.decrypt(nonce, body, _wrap_aad(version, binding))
        except InvalidTag:
            raise SecretUnreadable("the data key does not belong to this record") from None
