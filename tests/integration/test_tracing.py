"""OpenTelemetry traces: what a real OTLP/HTTP receiver gets from ``chatgrid serve``, and
that nothing is sent (nor any exporter made) when no receiver is configured."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import openai
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from chatgrid.context import AppContext
from chatgrid.ledger.entries import LedgerEntry
from chatgrid.settings import Settings
from chatgrid.store.migrate import upgrade_to_head
from chatgrid.tracing import exporter_endpoint, start_tracing
from chatgrid.tracing.spans import Tracing, _route
from tests.support.canary import assert_found_nowhere
from tests.support.deployment import REDIS_URL, Deployment, make_settings, settings_env
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan, running_receiver
from tests.support.process_groups import children_of, serving_in_own_group, wait_for_exit
from tests.support.processes import ChatGridInstance, RunningProcess, instance_env
from tests.support.waiting import wait_for

SERVER, CLIENT = 2, 3  # opentelemetry.proto.trace.v1.Span.SpanKind
CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
PROMPT = "the canary words nobody may trace"
#: What tracing imports (the SDK's metrics part may be imported by redis-py on its own).
SDK_TRACING = ("opentelemetry.sdk.trace", "opentelemetry.exporter")
#: The standard variables, emptied so the runner's own environment cannot turn tracing on.
NO_OTEL = {"OTEL_EXPORTER_OTLP_ENDPOINT": "", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ""}


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with running_receiver() as running:
        yield running


@contextlib.contextmanager
def serving(
    tmp_path: Path,
    database_url: str | None,
    simulator: RunningProcess,
    extra_env: dict[str, str],
    *serve_args: str,
) -> Iterator[Deployment]:
    """``chatgrid serve`` in a group of its own (started with a generous deadline: other
    tests load this machine too), an admin context on its database; killed at the end."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    prefix = f"cgtrace-{secrets.token_hex(4)}"
    env = instance_env(settings_env(data_dir, database_url))
    env.update(NO_OTEL)
    env.update(CHATGRID_REDIS_URL=REDIS_URL, CHATGRID_REDIS_PREFIX=prefix)
    env.update(extra_env)
    settings = make_settings(data_dir, database_url).model_copy(
        update={"redis_url": REDIS_URL, "redis_prefix": prefix}
    )
    context = AppContext.open(settings)
    upgrade_to_head(context.engine)
    context.prices.seed_defaults()
    try:
        with serving_in_own_group(env, tmp_path, *serve_args) as server:
            yield Deployment(ChatGridInstance(env, data_dir, server), context, simulator)
    finally:
        context.close()


def _stop(deployment: Deployment) -> None:
    """SIGTERM to the server's group, as systemd sends it; it must shut down cleanly
    (one process ends by re-raising the signal, as uvicorn does; a supervisor exits 0)."""
    server = deployment.instance.server
    assert server is not None
    os.killpg(server.process.pid, signal.SIGTERM)
    assert wait_for_exit(server.process, 120) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in server.log_text()


@pytest.fixture
def traced(
    tmp_path: Path,
    postgres_database: str | None,
    simulator: RunningProcess,
    receiver: OtlpReceiver,
) -> Iterator[Deployment]:
    env = {"CHATGRID_OTEL_ENDPOINT": receiver.base_url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    with serving(tmp_path, postgres_database, simulator, env) as deployment:
        yield deployment


def _server_span(spans: list[ReceivedSpan], request_id: str) -> ReceivedSpan:
    [span] = [
        s
        for s in spans
        if s.kind == SERVER and s.attributes.get("chatgrid.request_id") == request_id
    ]
    return span


def _children(spans: list[ReceivedSpan], parent: ReceivedSpan) -> dict[str, list[ReceivedSpan]]:
    found: dict[str, list[ReceivedSpan]] = {}
    for span in spans:
        if span.parent_span_id == parent.span_id and span.trace_id == parent.trace_id:
            found.setdefault(span.name, []).append(span)
    return found


def test_each_v1_call_is_a_server_span_with_its_upstream_call_and_ledger_write(
    traced: Deployment, receiver: OtlpReceiver
) -> None:
    org = traced.new_org()
    client = openai.OpenAI(base_url=traced.v1, api_key=org.token, max_retries=0)
    traceparent = f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"
    chat = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": PROMPT}],
        extra_headers={"traceparent": traceparent, "X-Request-Id": "trace-test-chat"},
    )
    assert chat.headers["x-request-id"] == "trace-test-chat"
    streamed = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed.parse() if c.choices)
    stream_id = streamed.headers["x-request-id"]
    embedded = client.embeddings.with_raw_response.create(
        model="text-embedding-3-small", input=PROMPT
    )
    embeddings_id = embedded.headers["x-request-id"]
    stranger = openai.OpenAI(base_url=traced.v1, api_key="cg-not-a-token", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as refused:
        stranger.models.list()
    refused_id = refused.value.response.headers["x-request-id"]

    wanted = {"trace-test-chat", stream_id, embeddings_id, refused_id}

    def all_arrived() -> list[ReceivedSpan] | None:
        found = receiver.received()
        ids = {s.attributes.get("chatgrid.request_id") for s in found}
        ledgered = sum(s.name == "ledger write" for s in found)
        return found if wanted <= ids and ledgered >= 3 else None

    spans = wait_for(all_arrived)

    # The chat call continues the client's trace, under the client's span.
    server = _server_span(spans, "trace-test-chat")
    assert (server.trace_id, server.parent_span_id) == (CLIENT_TRACE, CLIENT_SPAN)
    assert server.name == "POST /v1/chat/completions"
    assert server.attributes["chatgrid.endpoint"] == "chat"
    assert server.attributes["http.response.status_code"] == 200
    assert server.attributes["chatgrid.org_id"] == org.id
    assert server.attributes["chatgrid.billing_mode"] == "byok"
    assert server.resource["service.name"] == "chatgrid"
    children = _children(spans, server)
    [upstream] = children["upstream"]
    [ledger] = children["ledger write"]
    assert upstream.kind == CLIENT
    assert upstream.attributes["chatgrid.provider"] == "openai"
    assert upstream.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert upstream.attributes["http.response.status_code"] == 200
    assert "first byte" in upstream.events
    [row] = [
        e for e in traced.context.usage.entries(org.id) if e["request_id"] == "trace-test-chat"
    ]
    assert ledger.attributes["chatgrid.call_id"] == row["call_id"]
    assert server.start_ns <= upstream.start_ns <= upstream.end_ns <= ledger.end_ns <= server.end_ns

    # Without a traceparent a call is a trace of its own; a stream is one span to its end.
    stream = _server_span(spans, stream_id)
    assert stream.trace_id != CLIENT_TRACE and stream.parent_span_id == ""
    [stream_upstream] = _children(spans, stream)["upstream"]
    assert stream_upstream.attributes["chatgrid.stream"] is True
    assert stream_upstream.end_ns <= stream.end_ns
    embeddings = _server_span(spans, embeddings_id)
    assert embeddings.name == "POST /v1/embeddings"
    assert set(_children(spans, embeddings)) == {"upstream", "ledger write"}

    # A refusal: the status, no org, nothing upstream.
    refusal = _server_span(spans, refused_id)
    assert refusal.name == "GET /v1/models"
    assert refusal.attributes["http.response.status_code"] == 401
    assert "chatgrid.org_id" not in refusal.attributes
    assert not _children(spans, refusal)

    # Nothing anyone typed or holds: token, key, email, org name, prompt, answer.
    needles = {
        "email": b"@example.com",
        "token": org.token.encode(),
        "byok key": (org.key or "").encode(),
        "org name": org.name.encode(),
        "prompt": PROMPT.encode(),
        "answer": (chat.parse().choices[0].message.content or "")[:24].encode(),
    }
    assert_found_nowhere({"receiver": b"".join(receiver.bodies)}, needles)


def test_with_nothing_configured_no_exporter_is_made_and_nothing_is_sent(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> None:
    # A receiver where the SDK sends by default: an exporter made by mistake would reach it.
    with (
        running_receiver(port=4318) as receiver,
        serving(tmp_path, postgres_database, simulator, {}) as deployment,
    ):
        org = deployment.new_org()
        client = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
        answer = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
        assert answer.choices[0].message.content
        _stop(deployment)  # a provider would export what it held here
        assert deployment.instance.server is not None
        log = deployment.instance.server.log_text()
    assert receiver.requests == 0
    assert "Application shutdown complete" in log
    assert "tracing on" not in log


def test_tracing_is_off_unless_a_receiver_is_named() -> None:
    off = Settings()
    assert exporter_endpoint(off, {}) is None
    assert exporter_endpoint(off, NO_OTEL) is None
    assert start_tracing(off, {}) is None
    named = Settings(otel_endpoint="http://collector:4318/")
    assert exporter_endpoint(named, {}) == "http://collector:4318/v1/traces"
    assert exporter_endpoint(off, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}) == ""
    assert exporter_endpoint(off, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c/v1/t"}) == ""
    assert exporter_endpoint(named, {"OTEL_SDK_DISABLED": "true"}) is None
    # The SDK is not even imported by a gateway that does not trace.
    probe = (
        "import sys; import chatgrid.app, chatgrid.gateway.app; "
        "from chatgrid.tracing import start_tracing; from chatgrid.settings import Settings; "
        "assert start_tracing(Settings(), {}) is None; "
        f"assert not [m for m in sys.modules if m.startswith({SDK_TRACING!r})], 'imported'"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHATGRID_", "OTEL_"))}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()


def _entry(**fields: object) -> LedgerEntry:
    values: dict[str, object] = {
        "call_id": "call_1", "org_id": "org_1", "member_id": "m", "token_id": "t",
        "mode": "shared", "provider": "openai", "credential_fingerprint": "fp_1",
        "endpoint": "chat", "model": "gpt-4o-mini", "stream": False, "prompt_tokens": 3,
        "cached_tokens": 0, "completion_tokens": 5, "usage_estimated": False,
        "list_cost_micros": 1, "charged_micros": 2, "markup_bps": 0,
        "upstream_request_id": None, "client_addr": None, "status_code": 200, "outcome": "ok",
        "started_at": datetime(2026, 1, 2, tzinfo=UTC), "first_byte_ms": 1, "duration_ms": 2,
        "finished": time.perf_counter(),
    }  # fmt: skip
    values.update(fields)
    return LedgerEntry(**values)  # type: ignore[arg-type]


async def _relay(tracing: Tracing) -> LedgerEntry:
    """What the relay does with tracing on: the upstream call, and its ledger write inside."""

    async def committed() -> None:
        return None

    async def call() -> LedgerEntry:
        entry = _entry()
        await tracing.ledger_write(entry, committed())
        return entry

    return await tracing.upstream_call("org_1", "shared", call())


def test_a_workspace_call_hangs_its_spans_from_one_of_its_own() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    asyncio.run(_relay(Tracing(provider)))
    spans = {span.name: span for span in exporter.get_finished_spans()}
    assert set(spans) == {"workspace call", "upstream", "ledger write"}
    root = spans["workspace call"]
    assert root.parent is None
    assert dict(root.attributes or {}) == {
        "chatgrid.org_id": "org_1",
        "chatgrid.billing_mode": "shared",
    }
    for child in ("upstream", "ledger write"):
        assert spans[child].parent is not None
        assert spans[child].parent.span_id == root.context.span_id


def test_span_names_never_carry_a_made_up_url() -> None:
    assert _route("/v1/chat/completions", "chat") == "/v1/chat/completions"
    assert _route("/v1/models/gpt-4o-mini", "models") == "/v1/models/{model}"
    assert _route("/v1/alice@example.com/sk-secret", "other") == "/v1"


def test_a_caller_that_does_not_sample_gets_no_spans() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing = Tracing(provider)
    scope = {
        "type": "http", "method": "POST", "path": "/v1/chat/completions",
        "headers": [(b"traceparent", f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-00".encode())],
    }  # fmt: skip

    async def answer(scope: dict[str, object], receive: object, send: object) -> None:
        await _relay(tracing)

    asyncio.run(tracing.serve(scope, _never, _ignore, answer))  # type: ignore[arg-type]
    assert exporter.get_finished_spans() == ()


async def _never() -> dict[str, object]:
    raise AssertionError("not read")


async def _ignore(message: object) -> None:
    return None


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def _answered_by(response: httpx.Response, workers: list[int]) -> int | None:
    """The worker holding the server's end of the (still open) connection of ``response``."""
    client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    server_port = response.url.port
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(f.split(":")[1], 16) for f in fields[1:3])
        if (local, remote) == (server_port, client_port):
            inode = int(fields[9])
            return next((w for w in workers if inode in _socket_inodes(w)), None)
    return None


@pytest.mark.slow
def test_every_worker_exports_its_own_spans_and_flushes_them_when_stopped(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> None:
    # Batches wait ten minutes: only the shutdown's flush can deliver these spans.
    with running_receiver() as receiver:
        env = {
            "CHATGRID_OTEL_ENDPOINT": receiver.base_url,
            "OTEL_BSP_SCHEDULE_DELAY": "600000",
            # A full batch would leave at once: more room than 200 calls' spans need.
            "OTEL_BSP_MAX_QUEUE_SIZE": "4096",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "4096",
        }
        with serving(tmp_path, postgres_database, simulator, env, "--workers", "2") as deployment:
            org = deployment.new_org()
            assert deployment.instance.server is not None
            supervisor = deployment.instance.server.process.pid
            workers = wait_for(lambda: _worker_pids(supervisor), timeout=180)
            answered: dict[str, int | None] = {}
            for n in range(200):
                # A client (and connection) per call, so both workers answer some.
                with httpx.Client(timeout=60) as http:
                    client = openai.OpenAI(
                        base_url=deployment.v1, api_key=org.token, http_client=http
                    )
                    raw = client.chat.completions.with_raw_response.create(
                        model="gpt-4o-mini",
                        messages=[{"role": "user", "content": "hi"}],
                        extra_headers={"X-Request-Id": f"worker-call-{n}"},
                    )
                    answered[raw.headers["x-request-id"]] = _answered_by(raw.http_response, workers)
                if len(set(answered.values()) - {None}) == 2 and n >= 10:
                    break
            assert len(set(answered.values()) - {None}) == 2, f"answered by {answered}"
            assert not receiver.received(), "a batch left before the shutdown"
            _stop(deployment)
        spans = receiver.received()
    servers = {s.attributes["chatgrid.request_id"]: s for s in spans if s.kind == SERVER}
    assert set(servers) == set(answered)
    for request_id, worker in answered.items():
        assert worker is None or servers[request_id].resource["process.pid"] == worker
        assert set(_children(spans, servers[request_id])) == {"upstream", "ledger write"}


def _worker_pids(supervisor: int) -> list[int] | None:
    workers = [
        p.pid
        for p in children_of(supervisor)
        if "spawn_main" in p.command and "resource_tracker" not in p.command
    ]
    return workers if len(workers) == 2 else None
