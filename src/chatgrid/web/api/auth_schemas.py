"""Bodies of the sign-up and invitation-preview answers.

Both are shaped so that nothing in them depends on whether an address
already has an account (see ``admin.accounts.request_sign_up`` and
``identity.invitations``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from chatgrid.identity.models import Role


class SignUpAccepted(BaseModel):
    """The one answer to a sign-up that passed its checks, new address or not."""

    status: Literal["sign_in"] = Field(
        description="What to do next: sign in with the address and password just sent."
    )
    email: str
    org_name: str
    message: str


class InvitationPreview(BaseModel):
    org_id: str
    org_name: str
    email: str
    role: Role
    expires_at: datetime
    needs: Literal["password", "join"] = Field(
        description="password: send a password with the acceptance — the address's console "
        "password if it has one, otherwise a new one for it (the answer never says which); "
        "join: nothing (already signed in as the invited address)."
    )


def sign_up_message(email: str, org_name: str) -> str:
    """What anyone who signed up reads: true for a new address and for a known one alike."""
    return (
        f"Sign in as {email} to continue. If this address is new here, {org_name} is ready "
        "and the password you just chose opens it. If you already had an account with this "
        "address, nothing was changed: sign in with your existing password and create the "
        "organization from your list of organizations."
    )
