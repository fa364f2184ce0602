"""``GET /metrics``: only for the metrics token, and with two workers, the whole server's counts.

The server runs as ``chatgrid serve --workers 2``. Calls are made on fresh
connections until both workers have counted some (each worker's counter file
appears in ``DATA_DIR/metrics`` at its first request); a scrape, whichever
worker answers it, must then report exactly the calls made. The Grafana
dashboard is checked against the same scrape.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from chatgrid.context import AppContext
from chatgrid.store.migrate import upgrade_to_head
from tests.support.deployment import (
    REDIS_URL,
    DatabaseFactory,
    Deployment,
    OrgHandle,
    make_settings,
    settings_env,
)
from tests.support.process_groups import serving_in_own_group
from tests.support.processes import ChatGridInstance, RunningProcess, instance_env

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "chatgrid.json"
TOKEN = "metrics-" + secrets.token_hex(16)
MAX_TRIES = 200
UPSTREAM_500 = 'outcome="upstream_error",provider="openai",status="500"'


def _chat(deployment: Deployment, token: str, text: str = "hi", **extra: object) -> httpx.Response:
    """One call on a connection of its own (so either worker may take it)."""
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **extra}
    return httpx.post(
        f"{deployment.v1}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def _scrape(base_url: str, authorization: str | None = f"Bearer {TOKEN}") -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return httpx.get(f"{base_url}/metrics", headers=headers, timeout=30)


def _samples(text: str) -> dict[str, float]:
    """Every sample of the text format, by its name and its labels in alphabetical order."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


class Served:
    """The two-worker server, with what the calls made so far should show."""

    def __init__(self, deployment: Deployment, org: OrgHandle, email: str) -> None:
        self.deployment = deployment
        self.org = org
        self.email = email
        self.ok_calls = 0

    @property
    def base_url(self) -> str:
        return self.deployment.instance.base_url


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
    new_database: DatabaseFactory,
    simulator: RunningProcess,
) -> Iterator[Served]:
    postgres_database = new_database()
    tmp_path = tmp_path_factory.mktemp("metrics")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    prefix = f"cgmetrics-{secrets.token_hex(4)}"
    env = instance_env(settings_env(data_dir, postgres_database))
    env.update(
        CHATGRID_REDIS_URL=REDIS_URL, CHATGRID_REDIS_PREFIX=prefix, CHATGRID_METRICS_TOKEN=TOKEN
    )
    settings = make_settings(data_dir, postgres_database).model_copy(
        update={"redis_url": REDIS_URL, "redis_prefix": prefix}
    )
    context = AppContext.open(settings)
    upgrade_to_head(context.engine)
    context.prices.seed_defaults()
    try:
        with serving_in_own_group(env, tmp_path, "--workers", "2") as server:
            deployment = Deployment(ChatGridInstance(env, data_dir, server), context, simulator)
            org = deployment.new_org()
            email = context.members.list(org.id)[0].email
            yield Served(deployment, org, email)
    finally:
        context.close()


def _counting_workers(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "metrics").glob("counter_*.db")}


def test_metrics_need_the_token(served: Served) -> None:
    assert _scrape(served.base_url, None).status_code == 401
    assert _scrape(served.base_url, "Bearer wrong-token").status_code == 401
    assert _scrape(served.base_url, f"Basic {TOKEN}").status_code == 401
    answered = _scrape(served.base_url)
    assert answered.status_code == 200
    assert answered.headers["content-type"].startswith("text/plain")


def test_both_workers_counts_are_in_every_scrape(served: Served) -> None:
    deployment, org = served.deployment, served.org
    data_dir = deployment.instance.data_dir
    for _ in range(MAX_TRIES):
        response = _chat(deployment, org.token)
        if response.status_code == 503:  # a worker still starting
            continue
        assert response.status_code == 200, response.text
        served.ok_calls += 1
        if len(_counting_workers(data_dir)) == 2 and served.ok_calls >= 6:
            break
    assert len(_counting_workers(data_dir)) == 2, "one worker answered every call"
    streamed = _chat(deployment, org.token, stream=True)
    assert streamed.status_code == 200
    failed = _chat(deployment, org.token, "[sim:500] fail")
    assert failed.status_code == 502
    refused = _chat(deployment, "not-a-token")
    assert refused.status_code == 401

    chat = 'endpoint="chat"'
    want = {
        f'chatgrid_requests_total{{{chat},mode="byok",status="200"}}': served.ok_calls + 1,
        f'chatgrid_requests_total{{{chat},mode="byok",status="502"}}': 1,
        f'chatgrid_requests_total{{{chat},mode="unknown",status="401"}}': 1,
        f"chatgrid_added_seconds_count{{{chat}}}": served.ok_calls + 2,
        f'chatgrid_upstream_seconds_count{{{chat},provider="openai"}}': served.ok_calls + 2,
        f"chatgrid_upstream_errors_total{{{UPSTREAM_500}}}": 1,
        "chatgrid_database_up": 1,
        "chatgrid_redis_up": 1,
    }
    # Several scrapes, on fresh connections: whichever worker answers, the same sums.
    for _ in range(4):
        samples = _samples(_scrape(served.base_url).text)
        for name, value in want.items():
            assert samples.get(name) == value, (name, samples.get(name))
        assert samples['chatgrid_ledger_entries_total{result="committed"}'] >= served.ok_calls + 2
        assert samples["chatgrid_ledger_commit_seconds_count"] >= 1
        assert 'chatgrid_pool_keys{status="active"}' in samples


def test_no_name_email_or_key_is_in_the_metrics(served: Served) -> None:
    assert _chat(served.deployment, served.org.token).status_code == 200
    text = _scrape(served.base_url).content
    org = served.org
    assert org.key is not None
    for needle in (org.name, served.email, org.token, org.key, org.key[-8:], TOKEN):
        assert needle.encode() not in text, needle


def _metric_names(expression: str) -> set[str]:
    return set(re.findall(r"\bchatgrid_[a-z_]+\b", expression))


def _expressions(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                yield value
            else:
                yield from _expressions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _expressions(item)


def test_every_dashboard_query_reads_a_metric_chatgrid_exports(served: Served) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"] and dashboard["panels"] and dashboard["schemaVersion"]
    expressions = list(_expressions(dashboard))
    assert len(expressions) >= 10
    exported = {name.split("{")[0] for name in _samples(_scrape(served.base_url).text)}
    for expression in expressions:
        names = _metric_names(expression)
        assert names, f"no ChatGrid metric in {expression}"
        assert names <= exported, f"{expression} reads {names - exported}"


def test_without_a_token_there_are_no_metrics(deployment: Deployment) -> None:
    for authorization in (None, f"Bearer {TOKEN}"):
        assert _scrape(deployment.instance.base_url, authorization).status_code == 404
