"""``create_web_app(context)``: the console's FastAPI app (pages, ``/api``, ``/docs``, static)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from chatgrid.context import AppContext
from chatgrid.identity.throttle import UNTRUSTED_FAILURES_FACTOR, ThrottlePolicy, login_throttle
from chatgrid.mail import Mailer, mailer_from_settings
from chatgrid.web import stripe_webhook
from chatgrid.web.api import api_router
from chatgrid.web.api import scim as scim_api
from chatgrid.web.errors import install_error_handlers
from chatgrid.web.openapi import openapi_document
from chatgrid.web.pages import page_router
from chatgrid.web.security import BodyLimit, SecurityHeaders
from chatgrid.web.state import ConsoleState
from chatgrid.web.templating import STATIC_DIR, Templates

if TYPE_CHECKING:
    from chatgrid.chat.workspace import Workspace

API_DESCRIPTION = """\
The org admin console's actions as JSON. Sign in with `POST /api/session`
(first `GET /api/csrf` and send its token as `X-CSRF-Token`); the answer sets
the `cg_session` cookie (`__Host-cg_session` over https) and carries the
session's `csrf_token`, which every call that changes state must send as
`X-CSRF-Token`. Errors are
`{"error": {"message", "type", "param", "code"}}`. An org you do not belong
to, and anything in it, is a 404; an admin action by a plain member is a 403.
"""


def create_web_app(
    context: AppContext, *, mailer: Mailer | None = None, workspace: Workspace | None = None
) -> FastAPI:
    settings = context.settings
    throttle = login_throttle(
        settings.redis_url,
        settings.redis_prefix,
        ThrottlePolicy(
            max_per_account_and_address=settings.login_max_failures,
            max_per_address=settings.login_max_failures_per_address,
            # Guesses at one account spread over many addresses (docs/console.md).
            max_per_account_untrusted=UNTRUSTED_FAILURES_FACTOR * settings.login_max_failures,
            window_seconds=settings.login_window_minutes * 60,
        ),
    )
    counter = throttle.counter
    app = FastAPI(
        title="ChatGrid admin API",
        version="1",
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.console = ConsoleState(
        ctx=context,
        throttle=throttle,
        counter=counter,
        mailer=mailer if mailer is not None else mailer_from_settings(settings),
        templates=Templates(),
        workspace=workspace,
    )
    install_error_handlers(app)
    app.include_router(api_router())
    app.include_router(scim_api.router)
    app.include_router(stripe_webhook.router)
    app.include_router(page_router())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyLimit, upload_limit=settings.document_max_bytes)
    app.add_middleware(SecurityHeaders)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    return app
