"""A key the upstream rejects raises an alert through a running server, never on the call's time.

A real ``chatgrid serve`` (its delivery worker started with it), the
simulator answering 403, and a webhook receiver that holds every request
until the test lets it go: the ``/v1`` caller has its answer while the
receiver is still held.
"""

from __future__ import annotations

import json
import threading

import openai
import pytest

from chatgrid.admin import alerts as admin_alerts
from chatgrid.alerts import ChannelKind, verify_signature
from chatgrid.audit import Actor
from chatgrid.identity.models import BillingMode
from chatgrid.store.types import utcnow
from tests.support.deployment import Deployment, add_pool_keys
from tests.support.waiting import wait_for
from tests.support.webhooks import running_receiver

REJECTED = [{"role": "user", "content": "Hi [sim:403]"}]


def test_a_byok_key_rejected_on_v1_alerts_the_orgs_channels_without_waiting_on_them(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    ctx = deployment.context
    with running_receiver() as receiver:
        receiver.hold = threading.Event()
        added = admin_alerts.add_channel(
            ctx, org.id, Actor.cli(), ChannelKind.WEBHOOK, receiver.url
        )
        client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
        with pytest.raises(openai.PermissionDeniedError, match="key was rejected"):
            client.chat.completions.create(model="gpt-4o-mini", messages=REJECTED)  # type: ignore[arg-type]
        # The caller has its answer; the receiver has not answered anything yet.
        [queued] = wait_for(lambda: ctx.alerts.deliveries(org.id))
        assert queued.event.kind == "credential.broken" and queued.status == "pending"
        wait_for(receiver.arrived.is_set)
        receiver.hold.set()
        delivered = wait_for(
            lambda: [d for d in ctx.alerts.deliveries(org.id) if d.status == "delivered"]
        )
    [got] = receiver.received
    assert added.signing_secret is not None
    header = got.headers["x-chatgrid-signature"]
    stamp = int(header.split(",")[0].removeprefix("t="))
    assert verify_signature(added.signing_secret, got.body, header, now=stamp)
    assert abs(stamp - utcnow().timestamp()) < 3600
    document = json.loads(got.body)
    assert document["event"] == "credential.broken" and document["org_id"] == org.id
    assert document["data"]["fingerprint"].startswith("fp_")
    assert org.key is not None and org.key not in got.body.decode()
    assert delivered[0].attempts == 1


def test_a_pooled_key_rejected_alerts_the_operators_channels(deployment: Deployment) -> None:
    ctx = deployment.context
    [pool_key] = add_pool_keys(deployment, 1)
    org = deployment.new_org(BillingMode.SHARED)
    with running_receiver() as receiver:
        admin_alerts.add_channel(ctx, None, Actor.cli(), ChannelKind.SLACK, receiver.url)
        client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
        with pytest.raises(openai.APIStatusError):
            client.chat.completions.create(model="gpt-4o-mini", messages=REJECTED)  # type: ignore[arg-type]
        wait_for(lambda: [d for d in ctx.alerts.deliveries(None) if d.status == "delivered"])
    [got] = receiver.received
    text = json.loads(got.body)["text"]
    assert "pooled key pool-0 is broken" in text and pool_key not in text
    [row] = ctx.alerts.deliveries(None)
    assert row.event.kind == "pool_key.broken" and row.org_id is None
