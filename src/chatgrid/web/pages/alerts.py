"""The alerts page (org admins): channels, a test alert, the delivery log and re-sending.

A webhook's signing secret is shown once, on the page that answers the form
that added it (never behind a redirect, never again).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import Response

from chatgrid.admin import alerts
from chatgrid.alerts import ChannelKind
from chatgrid.errors import ChatGridError, InvalidRequest
from chatgrid.web.deps import Console, OrgAccess, OrgAdmin, TargetAlertChannel, TargetAlertDelivery
from chatgrid.web.pages.common import NOTICES, form_action, redirect, render
from chatgrid.web.state import ConsoleState

router = APIRouter()

ALERT_NOTICES = {
    "channel_added": "The channel is added. Send a test alert to check it.",
    "channel_removed": "The channel is removed; what was sent stays in the log.",
    "test_queued": "A test alert is queued to every channel; it shows below within seconds.",
    "resent": "The delivery is queued again.",
}


def channel_kind(value: str) -> ChannelKind:
    """The form's kind, or a refusal naming the field (the select only offers the three)."""
    try:
        return ChannelKind(value)
    except ValueError:
        raise InvalidRequest("choose email, webhook or Slack", param="kind") from None


def _alerts_page(
    request: Request,
    state: ConsoleState,
    access: OrgAccess,
    *,
    refused: ChatGridError | None = None,
    typed: str = "",
    kind: str = "webhook",
    added: alerts.AddedChannel | None = None,
) -> Response:
    asked = request.query_params.get("notice", "")
    org_id = access.org.id
    return render(
        request,
        state,
        "alerts.html",
        access=access,
        section="alerts",
        channels=state.ctx.alerts.channels(org_id),
        deliveries=state.ctx.alerts.deliveries(org_id, 50),
        typed=typed,
        kind=kind,
        added=added,
        notice=ALERT_NOTICES.get(asked) or NOTICES.get(asked),
        refused=refused,
    )


@router.get("/orgs/{org_id}/alerts")
def alerts_page(request: Request, state: Console, access: OrgAdmin) -> Response:
    return _alerts_page(request, state, access)


@router.post("/orgs/{org_id}/alerts/channels")
def add_channel(
    request: Request,
    state: Console,
    access: OrgAdmin,
    kind: Annotated[str, Form(max_length=20)] = "",
    target: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def add() -> Response:
        chosen = channel_kind(kind)
        added = alerts.add_channel(state.ctx, access.org.id, access.actor, chosen, target)
        if added.signing_secret is None:
            return redirect(f"/orgs/{access.org.id}/alerts", "channel_added")
        return _alerts_page(request, state, access, added=added)

    return form_action(add, partial(_alerts_page, request, state, access, typed=target, kind=kind))


@router.post("/orgs/{org_id}/alerts/channels/{channel_id}/remove")
def remove_channel(
    request: Request, state: Console, access: OrgAdmin, channel: TargetAlertChannel
) -> Response:
    def remove() -> Response:
        alerts.remove_channel(state.ctx, access.org.id, access.actor, channel.id)
        return redirect(f"/orgs/{access.org.id}/alerts", "channel_removed")

    return form_action(remove, partial(_alerts_page, request, state, access))


@router.post("/orgs/{org_id}/alerts/test")
def send_test(request: Request, state: Console, access: OrgAdmin) -> Response:
    def queue() -> Response:
        alerts.send_test(state.ctx, access.org.id, access.actor)
        return redirect(f"/orgs/{access.org.id}/alerts", "test_queued")

    return form_action(queue, partial(_alerts_page, request, state, access))


@router.post("/orgs/{org_id}/alerts/deliveries/{delivery_id}/resend")
def resend(
    request: Request, state: Console, access: OrgAdmin, delivery: TargetAlertDelivery
) -> Response:
    def again() -> Response:
        alerts.resend(state.ctx, access.org.id, access.actor, delivery.id)
        return redirect(f"/orgs/{access.org.id}/alerts", "resent")

    return form_action(again, partial(_alerts_page, request, state, access))
