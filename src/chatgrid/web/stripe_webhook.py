"""``POST /webhooks/stripe``: where Stripe sends its events (``admin.stripe_webhooks``).

Not a console call: no session and no CSRF token, the ``Stripe-Signature``
header is the proof. The body is read up to 256 KiB (Stripe's events are far
smaller) before anything else, and the answer is a bare JSON status: Stripe
only reads the status code, and a refusal says why in OpenAI's error shape
like the rest of ChatGrid.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from chatgrid.admin.stripe_webhooks import handle_stripe_webhook
from chatgrid.errors import ChatGridError, InvalidRequest
from chatgrid.web.state import ConsoleState

router = APIRouter(include_in_schema=False)
MAX_BODY = 256 * 1024


async def _bounded_body(request: Request) -> bytes:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise InvalidRequest("the body is too large", code="body_too_large", status=413)
    return bytes(raw)


@router.post("/webhooks/stripe")
async def stripe_webhook(request: Request) -> Response:
    state: ConsoleState = request.app.state.console
    try:
        body = await _bounded_body(request)
        outcome = await run_in_threadpool(
            handle_stripe_webhook, state.ctx, body, request.headers.get("stripe-signature")
        )
    except ChatGridError as error:
        return Response(error.to_json(), status_code=error.status, media_type="application/json")
    return Response(
        b'{"received":true,"outcome":"' + outcome.encode() + b'"}', media_type="application/json"
    )
