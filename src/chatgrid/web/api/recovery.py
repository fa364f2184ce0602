"""The API's emailed links: a new confirmation link, confirming, and resetting a password.

Like signing in, each needs the pre-session CSRF token (``GET /api/csrf``).
Asking for a link answers ``202`` with the same body for every address;
a link that does not work is one ``410 link_unusable`` whatever the reason.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from starlette.responses import Response

from chatgrid.admin import email_verification, password_reset
from chatgrid.web.api import recovery_schemas as schemas
from chatgrid.web.deps import AnonymousCsrf, Client, Console

router = APIRouter(tags=["account"])


@router.post(
    "/api/email/resend",
    response_model=schemas.LinkRequested,
    status_code=202,
    dependencies=[AnonymousCsrf],
    summary="Email a new link to confirm an address",
)
def resend_verification(
    body: schemas.LinkRequest, state: Console, client: Client
) -> schemas.LinkRequested:
    """For an account that cannot sign in until its address is confirmed (403
    ``email_not_verified``). 403 ``mail_not_configured`` where the instance sends no email;
    429 when this client asked too often."""
    email_verification.resend_verification(
        state.ctx, state.mailer, state.counter, body.email, client
    )
    return schemas.link_requested(body.email, schemas.verification_requested_message)


@router.post(
    "/api/email/verify",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[AnonymousCsrf],
    summary="Confirm an address with the emailed link's token",
)
def verify_email(body: schemas.EmailVerification, state: Console, client: Client) -> Response:
    """The account can sign in from now on; the link is spent."""
    email_verification.verify_email(state.ctx, body.token, client)
    return Response(status_code=204)


@router.post(
    "/api/password/forgot",
    response_model=schemas.LinkRequested,
    status_code=202,
    dependencies=[AnonymousCsrf],
    summary="Email a link to reset a forgotten password",
)
def forgot_password(
    body: schemas.LinkRequest, state: Console, client: Client
) -> schemas.LinkRequested:
    """The same answer whether or not an account uses the address. 403
    ``mail_not_configured`` where the instance sends no email; 429 when this client asked
    too often."""
    password_reset.request_password_reset(
        state.ctx, state.mailer, state.counter, body.email, client
    )
    return schemas.link_requested(body.email, schemas.reset_requested_message)


@router.post(
    "/api/password/reset",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[AnonymousCsrf],
    summary="Set a new password with the emailed link's token",
)
def reset_password(body: schemas.PasswordReset, state: Console, client: Client) -> Response:
    """Every session of the account ends and the link is spent; sign in next. A password the
    policy refuses (400) leaves the link usable."""
    password_reset.reset_password(state.ctx, body.token, body.password, client)
    return Response(status_code=204)
