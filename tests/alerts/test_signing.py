"""The webhook signature, the Slack body and the retry schedule: pure rules."""

from __future__ import annotations

import json
from datetime import timedelta

from chatgrid.alerts import (
    MAX_ATTEMPTS,
    AlertEvent,
    retry_delay,
    sign_body,
    slack_body,
    verify_signature,
    webhook_body,
)
from chatgrid.alerts.targets import display_host

SECRET = "whsec_test_secret"
EVENT = AlertEvent(
    kind="credential.broken",
    org_id="org_1",
    dedupe_key="credential.broken:cred_1:1",
    subject="ChatGrid: your OpenAI key was rejected",
    text="The upstream rejected the key fp_0123.",
    payload={"fingerprint": "fp_0123"},
)


def test_a_signed_body_verifies_with_its_secret_within_the_tolerance() -> None:
    body = webhook_body(EVENT, "dlv_1")
    header = sign_body(SECRET, body, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert verify_signature(SECRET, body, header, now=1_700_000_000 + 299)


def test_a_changed_body_another_secret_or_an_old_timestamp_fails() -> None:
    body = webhook_body(EVENT, "dlv_1")
    header = sign_body(SECRET, body, 1_700_000_000)
    assert not verify_signature(SECRET, body + b" ", header, now=1_700_000_000)
    assert not verify_signature("another", body, header, now=1_700_000_000)
    assert not verify_signature(SECRET, body, header, now=1_700_000_000 + 301)
    assert not verify_signature(SECRET, body, "v1=abc", now=1_700_000_000)
    assert not verify_signature(SECRET, body, "", now=1_700_000_000)
    # The timestamp is signed: moving it forward breaks the signature.
    forged = header.replace("t=1700000000", "t=1700000100")
    assert not verify_signature(SECRET, body, forged, now=1_700_000_100)


def test_any_of_several_v1_values_may_match() -> None:
    body = b"{}"
    good = sign_body(SECRET, body, 10).split(",")[1]
    assert verify_signature(SECRET, body, f"t=10,v1=00ff,{good}", now=10)


def test_the_webhook_body_carries_the_event_and_the_delivery_id() -> None:
    document = json.loads(webhook_body(EVENT, "dlv_9"))
    assert document == {
        "id": "dlv_9",
        "event": "credential.broken",
        "org_id": "org_1",
        "subject": EVENT.subject,
        "text": EVENT.text,
        "data": {"fingerprint": "fp_0123"},
    }
    assert AlertEvent.from_json(EVENT.as_json()) == EVENT


def test_the_slack_body_is_one_text_field() -> None:
    assert json.loads(slack_body(EVENT)) == {"text": f"*{EVENT.subject}*\n{EVENT.text}"}


def test_retries_back_off_exponentially_capped_then_give_up() -> None:
    delays = [retry_delay(n) for n in range(1, MAX_ATTEMPTS)]
    assert delays[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert all(d is not None and d <= timedelta(hours=1) for d in delays)
    assert retry_delay(MAX_ATTEMPTS) is None
    assert MAX_ATTEMPTS == 8
    assert retry_delay(20) is None


def test_only_the_host_of_a_webhook_url_is_shown() -> None:
    assert display_host("https://hooks.slack.com/services/T0/B0/XyZsecret") == "hooks.slack.com"
