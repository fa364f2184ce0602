"""Server-signed values for the browser: pre-session CSRF tokens and device tokens.

Both are HMAC-SHA256 under a key derived from the vault's master keys, so
every replica that can open the org keys can check them, and nothing new has
to be kept or rotated. Signing uses the newest master version; checking
accepts any version still in the ring, so ``vault rotate-master`` does not
sign anybody out of a half-filled form.

- **Pre-session CSRF** (login CSRF): the browser holds a random pre-session
  id in an HttpOnly cookie; the form or header must carry
  ``HMAC(key, id)``. A cookie an attacker managed to plant comes with no
  token they can compute, so "cookie equals header" is never enough.
- **Device tokens** (OWASP's device cookies): issued to a browser when an
  account signs in there, bound to that account's address. Sign-in from a
  browser holding one is not held back by failures other browsers cause.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

_DERIVE_LABEL = b"chatgrid/browser-signing/v1"
_DEVICE_PREFIX = "d1"
MAX_COOKIE_LENGTH = 200


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _mac(key: bytes, purpose: str, *parts: str) -> str:
    message = "\x00".join((purpose, *parts)).encode("utf-8", "surrogateescape")
    return _b64(hmac.new(key, message, hashlib.sha256).digest())


@dataclass(frozen=True)
class BrowserSigner:
    """HMAC keys derived from each master key version; the highest version signs."""

    keys: tuple[bytes, ...]  # newest first

    @classmethod
    def from_master_keys(cls, master: Mapping[int, bytes]) -> BrowserSigner:
        derived = tuple(
            hmac.new(master[version], _DERIVE_LABEL, hashlib.sha256).digest()
            for version in sorted(master, reverse=True)
        )
        return cls(derived)

    def _matches(self, presented: str, purpose: str, *parts: str) -> bool:
        given = presented.encode("ascii", "replace")
        # Every key is tried (no early exit), so the time says nothing about which matched.
        results = [
            hmac.compare_digest(_mac(key, purpose, *parts).encode(), given) for key in self.keys
        ]
        return any(results)

    # Pre-session CSRF

    def presession_token(self, presession_id: str) -> str:
        return _mac(self.keys[0], "presession", presession_id)

    def presession_token_matches(self, presession_id: str | None, presented: str | None) -> bool:
        """True only for the token this server made for this pre-session id."""
        if not presession_id or not presented or not is_plausible_id(presession_id):
            return False
        return self._matches(presented, "presession", presession_id)

    # Device tokens

    def device_token(self, email: str) -> str:
        nonce = secrets.token_urlsafe(18)
        return f"{_DEVICE_PREFIX}.{nonce}.{_mac(self.keys[0], 'device', email, nonce)}"

    def device_id(self, token: str | None, email: str) -> str | None:
        """The device's id when ``token`` was issued here to ``email``, else None."""
        if not token or len(token) > MAX_COOKIE_LENGTH:
            return None
        prefix, _, rest = token.partition(".")
        nonce, _, mac = rest.partition(".")
        if prefix != _DEVICE_PREFIX or not nonce or not mac:
            return None
        return nonce if self._matches(mac, "device", email, nonce) else None


def new_presession_id() -> str:
    return secrets.token_urlsafe(32)


def is_plausible_id(value: str) -> bool:
    """Shaped like an id we issue (URL-safe base64, sensible length)."""
    return 20 <= len(value) <= 100 and all(
        ch.isascii() and (ch.isalnum() or ch in "-_") for ch in value
    )
