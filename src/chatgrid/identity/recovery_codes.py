"""Recovery codes: single-use codes that stand in for the authenticator app.

Ten are made at a time and shown once; only their hashes are kept. Each is
16 characters of lowercase base32 (80 random bits), shown in groups of four
(``abcd-efgh-ijkl-mnop``), so a fast hash is safe: an offline guesser with a
copy of the database faces 2^80 candidates per code. The hash is bound to
the account (its id goes into the hash), so the same hash in two accounts'
rows says nothing and a hash copied to another account does not match.

They are the way back in when a phone is lost, and, for owners of an org
that enforces single sign-on, the break-glass way past it: whatever uses
them spends them through ``admin.second_factor`` (once each, audited).
"""

from __future__ import annotations

import hashlib
import secrets

COUNT = 10
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_LENGTH = 16
_GROUP = 4


def new_codes(count: int = COUNT) -> list[str]:
    """Fresh codes as shown to their owner."""
    return [
        _shown("".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))) for _ in range(count)
    ]


def _shown(raw: str) -> str:
    return "-".join(raw[i : i + _GROUP] for i in range(0, len(raw), _GROUP))


def normalized(typed: str) -> str | None:
    """The code typed (any case, with or without hyphens and spaces); None if not one."""
    raw = "".join(ch for ch in typed.lower() if ch not in " -\t")
    if len(raw) != _LENGTH or any(ch not in _ALPHABET for ch in raw):
        return None
    return raw


def looks_like_a_recovery_code(typed: str) -> bool:
    return normalized(typed) is not None


def code_hash(user_id: str, typed: str) -> str | None:
    """What is stored for a code of this account (None if the text is not a code)."""
    raw = normalized(typed)
    if raw is None:
        return None
    message = f"chatgrid/recovery-code/v1\x00{user_id}\x00{raw}".encode()
    return hashlib.sha256(message).hexdigest()
