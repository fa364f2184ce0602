"""Time-based one-time codes (RFC 6238) for two-step sign-in: the rules, free of I/O.

A code is six digits from HMAC-SHA1 over the 30-second time step since the
Unix epoch, which is what every authenticator app makes from the otpauth URI
(pyotp does the arithmetic). The rules here are ours:

- **Drift.** A code of the step before or after the current one is accepted
  too, so a phone whose clock is a few seconds off, or a code typed just as it
  changed, still works; nothing wider (every extra step is another code an
  attacker may hit).
- **Once.** The caller keeps the last step it accepted for the account and
  hands it in; only a later step is accepted. A code seen over a shoulder or
  in a proxy's log cannot be replayed, and two sign-ins within 30 seconds need
  two different codes.
- **Time is a parameter** (``now``), never read here, so the rules are tested
  at fixed instants.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

STEP_SECONDS = 30
DIGITS = 6
#: Steps of clock drift accepted on either side of the current one.
DRIFT_STEPS = 1
#: 160 bits, the key size RFC 4226 recommends (32 base32 characters).
SECRET_LENGTH = 32
ISSUER = "ChatGrid"


def new_secret() -> str:
    """A fresh random seed, base32 as authenticator apps expect it."""
    return pyotp.random_base32(SECRET_LENGTH)


def time_step(now: datetime) -> int:
    """The RFC 6238 counter at ``now`` (an aware datetime)."""
    return int(now.timestamp()) // STEP_SECONDS


def code_at_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def normalized_code(typed: str) -> str | None:
    """The six digits typed, spaces and hyphens ignored ("123 456"); None if not a code."""
    digits = "".join(ch for ch in typed if ch not in " -\t")
    if len(digits) != DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    return digits


def accepted_step(secret: str, typed: str, now: datetime, last_step: int | None) -> int | None:
    """The time step the code belongs to, if it may be accepted now; None otherwise.

    Every step in the drift window is compared (in constant time, no early
    exit), and the newest match wins. A match at or before ``last_step`` is a
    replay and refused.
    """
    code = normalized_code(typed)
    if code is None:
        return None
    current = time_step(now)
    matches = [
        step
        for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1)
        if hmac.compare_digest(code_at_step(secret, step).encode(), code.encode())
    ]
    fresh = [step for step in matches if last_step is None or step > last_step]
    return max(fresh) if fresh else None


def provisioning_uri(secret: str, account: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads from the QR code."""
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    return totp.provisioning_uri(name=account, issuer_name=issuer)


def grouped(secret: str) -> str:
    """The seed in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
