"""The emails about an account: confirm the address, reset the password, and their answers.

Whoever asks for one of these by typing an address gets exactly one email
sent to that address, whatever the account's state: the link when there is
something to do, otherwise a note saying what is true (no account uses the
address, or it is already confirmed). The asker sees the same page either
way; only the address's owner reads which it was.
"""

from __future__ import annotations

from datetime import datetime

Mail = tuple[str, str]  # subject, plain-text body

_IGNORE = "If you did not ask for this, ignore this email: nothing changes."


def _until(expires_at: datetime) -> str:
    return f"{expires_at:%Y-%m-%d %H:%M} UTC"


def verification_email(*, link: str, expires_at: datetime) -> Mail:
    body = (
        "Confirm that this address is yours to finish signing up to ChatGrid:\n"
        f"{link}\n"
        "\n"
        f"The link works once and until {_until(expires_at)}. Until the address is\n"
        "confirmed, nobody can sign in with it.\n"
        "\n"
        "If you did not sign up, ignore this email: the account stays locked.\n"
    )
    return "Confirm your email address for ChatGrid", body


def existing_account_email(*, base_url: str) -> Mail:
    """Someone signed up with an address that already has an account (nothing was changed)."""
    body = (
        "Someone tried to create a ChatGrid account with this address, which already\n"
        "has one. Nothing was changed.\n"
        "\n"
        f"If it was you, sign in instead: {base_url}/login\n"
        f"Forgot your password? Reset it here: {base_url}/password/forgot\n"
        "\n"
        f"{_IGNORE}\n"
    )
    return "You already have a ChatGrid account", body


def already_verified_email(*, base_url: str) -> Mail:
    body = (
        "Someone asked for a new confirmation link for this address, but it is\n"
        f"already confirmed. Sign in here: {base_url}/login\n"
        f"Forgot your password? Reset it here: {base_url}/password/forgot\n"
        "\n"
        f"{_IGNORE}\n"
    )
    return "Your ChatGrid address is already confirmed", body


def reset_email(*, link: str, expires_at: datetime) -> Mail:
    body = (
        "Someone asked to reset the password of your ChatGrid account. Choose a new\n"
        f"password here:\n{link}\n"
        "\n"
        f"The link works once and until {_until(expires_at)}. Setting a new password\n"
        "signs the account out everywhere.\n"
        "\n"
        "If you did not ask for this, ignore this email: your password stays as it is.\n"
    )
    return "Reset your ChatGrid password", body


def no_account_email(*, base_url: str, asked_for: str) -> Mail:
    """An address with no account was typed into a form that mails links."""
    body = (
        f"Someone asked for {asked_for} for this address, but no ChatGrid account\n"
        "uses it. If you have an account, it may be under another address.\n"
        f"To create one: {base_url}/signup\n"
        "\n"
        f"{_IGNORE}\n"
    )
    return "No ChatGrid account uses this address", body
