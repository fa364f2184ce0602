"""The operator console's alerts: the operator's own channels (where pooled-key alerts go),
a test alert, the delivery log and re-sending, as ``chatgrid alert ... --operator`` does.

The same forms and markup as an org's Alerts page (``alerts.py``, ``_alerts.html``) on the
channels of no org; a webhook's signing secret is shown once, on the page that answers
the form that added it. An org's channel or delivery is a 404 here.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import alerts
from chatgrid.errors import ChatGridError
from chatgrid.web.api.operator_alerts import OPERATOR, OperatorAlertChannel, OperatorAlertDelivery
from chatgrid.web.deps import Console, OperatorUser, Viewer
from chatgrid.web.pages.alerts import ALERT_NOTICES, channel_kind
from chatgrid.web.pages.common import form_action, redirect
from chatgrid.web.pages.operator import operator_page
from chatgrid.web.state import ConsoleState

router = APIRouter()

PAGE = "/operator/alerts"


def _alerts_page(
    request: Request,
    state: ConsoleState,
    viewer: Viewer,
    *,
    refused: ChatGridError | None = None,
    typed: str = "",
    kind: str = "webhook",
    added: alerts.AddedChannel | None = None,
) -> Response:
    return operator_page(
        request,
        state,
        viewer,
        "operator/alerts.html",
        "alerts",
        channels=state.ctx.alerts.channels(OPERATOR),
        deliveries=state.ctx.alerts.deliveries(OPERATOR, 50),
        typed=typed,
        kind=kind,
        added=added,
        notice=ALERT_NOTICES.get(request.query_params.get("notice", "")),
        refused=refused,
    )


@router.get("/operator/alerts")
def alerts_page(request: Request, state: Console, viewer: OperatorUser) -> Response:
    return _alerts_page(request, state, viewer)


@router.post("/operator/alerts/channels")
def add_channel(
    request: Request,
    state: Console,
    viewer: OperatorUser,
    kind: Annotated[str, Form(max_length=20)] = "",
    target: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def add() -> Response:
        added = alerts.add_channel(state.ctx, OPERATOR, viewer.actor, channel_kind(kind), target)
        if added.signing_secret is None:
            return redirect(PAGE, "channel_added")
        return _alerts_page(request, state, viewer, added=added)

    return form_action(add, partial(_alerts_page, request, state, viewer, typed=target, kind=kind))


@router.post("/operator/alerts/channels/{channel_id}/remove")
def remove_channel(
    request: Request, channel: OperatorAlertChannel, state: Console, viewer: OperatorUser
) -> Response:
    def remove() -> Response:
        alerts.remove_channel(state.ctx, OPERATOR, viewer.actor, channel.id)
        return redirect(PAGE, "channel_removed")

    return form_action(remove, partial(_alerts_page, request, state, viewer))


@router.post("/operator/alerts/test")
def send_test(request: Request, state: Console, viewer: OperatorUser) -> Response:
    def queue() -> Response:
        alerts.send_test(state.ctx, OPERATOR, viewer.actor)
        return redirect(PAGE, "test_queued")

    return form_action(queue, partial(_alerts_page, request, state, viewer))


@router.post("/operator/alerts/deliveries/{delivery_id}/resend")
def resend(
    request: Request, delivery: OperatorAlertDelivery, state: Console, viewer: OperatorUser
) -> Response:
    def again() -> Response:
        alerts.resend(state.ctx, OPERATOR, viewer.actor, delivery.id)
        return redirect(PAGE, "resent")

    return form_action(again, partial(_alerts_page, request, state, viewer))
