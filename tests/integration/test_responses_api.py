"""The Responses API through ChatGrid: the official SDK, `chatgrid serve`, the simulator."""

from __future__ import annotations

import httpx
import openai
import pytest

from chatgrid.admin import orgs
from chatgrid.identity.models import BillingMode
from chatgrid.limits.policy import OrgPolicy
from tests.support.deployment import Deployment
from tests.support.ledger_checks import assert_ledger_matches_upstream, ledger, records_by_id
from tests.support.shared_orgs import client, shared_org
from tests.support.waiting import wait_for


@pytest.mark.parametrize("mode", [BillingMode.BYOK, BillingMode.SHARED])
def test_a_response_is_created_and_ledgered_exactly(
    deployment: Deployment, mode: BillingMode
) -> None:
    org = deployment.new_org() if mode is BillingMode.BYOK else shared_org(deployment)
    reply = client(deployment, org.token).responses.create(
        model="gpt-4o-mini", input="Say hello [sim:tokens=9]", instructions="Be brief."
    )
    assert reply.output_text and reply.usage is not None
    [entry] = assert_ledger_matches_upstream(deployment, org.id)
    record = records_by_id(deployment)[entry["upstream_request_id"]]
    assert record["path"] == "/v1/responses"
    assert entry["endpoint"] == "responses" and entry["outcome"] == "ok"
    assert entry["prompt_tokens"] == reply.usage.input_tokens
    assert entry["completion_tokens"] == reply.usage.output_tokens == 9
    assert entry["list_cost_micros"] > 0
    if mode is BillingMode.BYOK:
        assert record["api_key"] == org.key and entry["charged_micros"] == 0
    else:
        assert entry["charged_micros"] >= entry["list_cost_micros"]


def test_a_streamed_response_takes_its_usage_from_the_final_event(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    events = list(
        client(deployment, org.token).responses.create(
            model="gpt-4o", input="stream it [sim:tokens=12]", stream=True
        )
    )
    assert events[-1].type == "response.completed"
    usage = events[-1].response.usage
    assert usage is not None
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) == 12
    [entry] = assert_ledger_matches_upstream(deployment, org.id)
    assert entry["stream"] and entry["outcome"] == "ok" and not entry["usage_estimated"]
    assert entry["completion_tokens"] == usage.output_tokens == 12


def test_a_stream_cut_by_max_output_tokens_is_ledgered_from_response_incomplete(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    events = list(
        client(deployment, org.token).responses.create(
            model="gpt-4o-mini", input="long [sim:tokens=50]", max_output_tokens=16, stream=True
        )
    )
    assert events[-1].type == "response.incomplete"
    [entry] = assert_ledger_matches_upstream(deployment, org.id)
    assert entry["completion_tokens"] == 16 and entry["outcome"] == "ok"


def test_a_response_stream_the_client_drops_is_still_ledgered(deployment: Deployment) -> None:
    org = deployment.new_org()
    body = {
        "model": "gpt-4o-mini",
        "stream": True,
        "input": "long one [sim:tokens=40] [sim:slow=15]",
    }
    headers = {"Authorization": f"Bearer {org.token}"}
    with (
        httpx.Client(timeout=30) as http,
        http.stream("POST", f"{deployment.v1}/responses", json=body, headers=headers) as r,
    ):
        assert r.status_code == 200
        for count, _ in enumerate(r.iter_raw(), start=1):
            if count >= 3:
                break  # hang up mid-stream
    [entry] = wait_for(lambda: ledger(deployment, org.id))
    assert entry["outcome"] == "client_disconnected"
    assert not entry["usage_estimated"] and entry["completion_tokens"] == 40
    assert_ledger_matches_upstream(deployment, org.id)


def test_a_stored_response_is_retrieved_and_deleted_through_the_orgs_key(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    sdk = client(deployment, org.token)
    created = sdk.responses.create(model="gpt-4o-mini", input="remember this")
    fetched = sdk.responses.retrieve(created.id)
    assert fetched.id == created.id and fetched.output_text == created.output_text
    sdk.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        sdk.responses.retrieve(created.id)
    assert len(ledger(deployment, org.id)) == 1  # lookups are free and not ledgered
    with pytest.raises(openai.AuthenticationError):  # a lookup needs a ChatGrid token
        client(deployment, "cg-not-a-token").responses.retrieve(created.id)


def test_shared_credits_refuse_stored_response_lookups(deployment: Deployment) -> None:
    org = shared_org(deployment)
    sdk = client(deployment, org.token)
    created = sdk.responses.create(model="gpt-4o-mini", input="pooled")
    with pytest.raises(openai.BadRequestError, match="own key"):
        sdk.responses.retrieve(created.id)
    # Continuing one is a lookup too (the pooled key serves every org), and it goes nowhere.
    with pytest.raises(openai.BadRequestError, match="own key") as refused:
        sdk.responses.create(model="gpt-4o-mini", input="more", previous_response_id=created.id)
    assert refused.value.code == "stored_responses_unavailable"
    assert refused.value.param == "previous_response_id"
    assert len(ledger(deployment, org.id)) == 1


def test_a_model_not_allowed_is_refused_before_any_call(deployment: Deployment) -> None:
    org = deployment.new_org()
    policy = OrgPolicy(allowed_models=frozenset({"gpt-4o-mini"}))
    orgs.set_policy(deployment.context, org.id, policy, actor="test")
    with pytest.raises(openai.PermissionDeniedError, match="not enabled") as caught:
        client(deployment, org.token).responses.create(model="gpt-4o", input="hi")
    assert caught.value.code == "model_not_allowed"
    assert ledger(deployment, org.id) == []


def test_the_reservation_refuses_a_worst_case_beyond_the_allowance(
    deployment: Deployment,
) -> None:
    # gpt-5: $10 per 1M output tokens; 50,000 output tokens at most = $0.50 > $0.10 left.
    org = shared_org(deployment, allowance_micros=100_000)
    sdk = client(deployment, org.token)
    with pytest.raises(openai.APIStatusError) as caught:
        sdk.responses.create(model="gpt-5", input="big", max_output_tokens=50_000)
    assert caught.value.status_code in (402, 429)
    assert ledger(deployment, org.id) == []
    small = sdk.responses.create(model="gpt-5", input="small", max_output_tokens=16)
    assert small.usage is not None
    assert len(ledger(deployment, org.id)) == 1
