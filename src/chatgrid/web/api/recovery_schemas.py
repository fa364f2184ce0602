"""Bodies of email verification and password reset, and the one answer each request gets.

The answers to "send me a link" never depend on the address: the same
message, status and fields whether an account uses it or not (the email sent
to the address says which it was). The console's pages show the same words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field

from chatgrid.web.api.schemas import Strict

# What a caller sends


class LinkRequest(Strict):
    email: str = Field(max_length=400)


class EmailVerification(Strict):
    token: str = Field(max_length=200, description="The token at the end of the emailed link.")


class PasswordReset(Strict):
    token: str = Field(max_length=200, description="The token at the end of the emailed link.")
    password: str = Field(max_length=4096, description="At least 8 characters, not a common one.")


# What comes back


class LinkRequested(BaseModel):
    """The one answer to a request for an emailed link, whatever the address."""

    status: Literal["check_email"] = Field(
        description="What to do next: open the link in the email sent to the address."
    )
    email: str
    message: str


def reset_requested_message(email: str) -> str:
    return (
        f"We sent an email to {email}. If an account uses this address, it holds a link to "
        "choose a new password, which works once and for an hour. Nothing arrived after a few "
        "minutes? Check the spam folder, or ask again."
    )


def verification_requested_message(email: str) -> str:
    return (
        f"We sent an email to {email}. If an account with this address is waiting for its "
        "address to be confirmed, it holds a new link, which works once and for a day."
    )


def link_requested(typed: str, message: Callable[[str], str]) -> LinkRequested:
    """The answer, in the address as it was looked up."""
    email = typed.strip().lower()
    return LinkRequested(status="check_email", email=email, message=message(email))
