"""Password policy and hashing (argon2id), free of HTTP and SQL.

The policy follows NIST SP 800-63B: at least 8 characters, long passphrases
welcome, no composition rules, and the most common passwords refused. The
list (``common_passwords.txt``) is Django's, itself Royce Williams' list of
the 20,000 most common passwords; entries shorter than our minimum are left
out because the length rule already refuses them.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from chatgrid.errors import InvalidRequest

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


class WeakPassword(InvalidRequest):
    default_code = "weak_password"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("chatgrid.identity").joinpath("common_passwords.txt").read_text("utf-8")
    _header, _, body = text.partition("\n\n")
    return frozenset(line for line in body.splitlines() if line)


def _normalized(password: str) -> str:
    # The same characters typed on another keyboard or OS must give the same hash.
    return unicodedata.normalize("NFKC", password)


def check_password_policy(password: str, *, email: str | None = None) -> None:
    """Raise ``WeakPassword`` with a message a person can act on, or return."""
    password = _normalized(password)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            f"a password has at least {MIN_PASSWORD_LENGTH} characters", param="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            f"a password has at most {MAX_PASSWORD_LENGTH} characters", param="password"
        )
    lowered = password.lower()
    if lowered in common_passwords() or lowered.strip() in common_passwords():
        raise WeakPassword(
            "this password is one of the most commonly used ones; choose another",
            param="password",
        )
    if email:
        address = email.strip().lower()
        if lowered in {address, address.partition("@")[0]}:
            raise WeakPassword("a password may not be your email address", param="password")


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # argon2-cffi's defaults are RFC 9106's low-memory profile: argon2id,
    # 3 passes over 64 MiB with 4 lanes.
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(_normalized(password))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, _normalized(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash used weaker parameters than today's."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not a real password, only spends the same time")


def spend_verification_time(password: str) -> None:
    """Verify against a throwaway hash so an unknown email takes as long as a known one."""
    verify_password(_dummy_hash(), password)
