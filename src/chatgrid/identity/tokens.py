"""Personal API tokens: random, shown once, stored only as a SHA-256 hash.

A token carries 256 bits of randomness, so a fast hash is as safe as a slow
one here, and the gateway can look a token up in a dict in microseconds.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "cgk_"  # noqa: S105 (a label, not a secret)
_DISPLAY_PREFIX_LENGTH = 12


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str | bytes) -> str:
    raw = token.encode() if isinstance(token, str) else token
    return hashlib.sha256(raw).hexdigest()


def display_prefix(token: str) -> str:
    """What may be shown of a token after creation: enough to tell tokens apart."""
    return token[:_DISPLAY_PREFIX_LENGTH]


def member_user_tag(member_id: str) -> str:
    """The ``user`` sent upstream: stable per member, so an abuse report maps to a person.

    Member ids are random, so the tag reveals nothing; ChatGrid maps a tag back
    by hashing its own member ids (``chatgrid member find-tag``).
    """
    digest = hashlib.blake2b(member_id.encode(), person=b"chatgrid-user", digest_size=12)
    return "cg-" + digest.hexdigest()
