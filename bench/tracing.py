"""What OpenTelemetry tracing costs on ``/v1``: off (the default) and on, in the same run.

Starts the simulator, provisions a BYOK org through the CLI (as ``gateway.py``
does), then two ``chatgrid serve`` processes on the same data dir: one with
nothing configured (tracing off) and one with ``CHATGRID_OTEL_ENDPOINT``
naming an OTLP/HTTP receiver this script runs (it decodes each export and
counts the spans, as a collector would). Non-streaming chat is measured with
wrk at c=1 (p50, what the gateway adds to the simulator's own p50) and c=32
(req/s), taking turns: the simulator directly (the baseline), tracing off,
tracing on, for ``--rounds`` rounds; the gateway's CPU time per request is
read from ``/proc``. Prints each figure, the on/off ratios, and checks that
the traced gateway exported three spans per call (server, upstream, ledger
write). Exit 1 means the run failed (a server did not start, a response was
not 2xx, or spans went missing).

    .venv/bin/python bench/tracing.py [--duration 10] [--warmup 2] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from _procs import (
    BenchError,
    Service,
    free_port,
    http_json,
    start_service,
    venv_bin,
    wait_healthy,
)
from _stack import DIRECT_KEY, _env, _provision
from _wrk import WrkResult, run_wrk

CHAT_BODY = (
    b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello [sim:tokens=16]"}]}'
)
SPANS_PER_CALL = 3  # the server span, the upstream call, the ledger write
TITLES = {
    "direct": "simulator directly",
    "before": "before (--before-src)",
    "off": "tracing off",
    "on": "tracing on",
}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per load run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per run")
    parser.add_argument("--rounds", type=int, default=2, help="turns of direct/off/on")
    parser.add_argument(
        "--before-src",
        type=Path,
        help="also measure a gateway run from this src/ (e.g. a worktree of the commit "
        "before tracing), to compare tracing off with no tracing code at all",
    )
    return parser.parse_args(argv)


class SpanCounter:
    """An OTLP/HTTP receiver that decodes every export and counts its spans."""

    def __init__(self) -> None:
        self.spans = 0
        self._lock = threading.Lock()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                found = sum(
                    len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans
                )
                with counter._lock:
                    counter.spans += found
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"


@contextmanager
def running_counter() -> Iterator[SpanCounter]:
    counter = SpanCounter()
    thread = threading.Thread(target=counter.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield counter
    finally:
        counter.server.shutdown()
        counter.server.server_close()


@dataclass
class Figures:
    p50_ms: list[float]
    rps: list[float]
    cpu_us: list[float]  # the gateway's CPU per request at c=32 (none for direct)
    requests: int = 0


def _serve(name: str, env: dict[str, str], workdir: Path) -> Service:
    port = free_port()
    argv = [venv_bin("chatgrid"), "serve", "--port", str(port)]
    service = start_service(name, argv, env, port, workdir)
    wait_healthy(service, "/healthz", timeout=120)
    return service


def _measure(
    url: str, token: str, c: int, args: argparse.Namespace, script: Path, label: str
) -> WrkResult:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def once(seconds: float) -> WrkResult:
        return run_wrk(
            url + "/v1/chat/completions",
            CHAT_BODY,
            headers,
            connections=c,
            duration_s=seconds,
            script_path=script,
        )

    once(args.warmup).check(f"{label} (warm-up)")
    result = once(args.duration)
    result.check(label)
    return result


def run(args: argparse.Namespace, cleanup: ExitStack) -> bool:
    """The whole benchmark; returns whether every traced call's spans arrived."""
    workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="chatgrid-bench-")))
    counter = cleanup.enter_context(running_counter())
    env = _env(workdir)
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        env.pop(name, None)
    sim_port = free_port()
    simulator = start_service(
        "simulator",
        [venv_bin("chatgrid"), "simulator", "--port", str(sim_port)],
        env,
        sim_port,
        workdir,
    )
    cleanup.callback(simulator.stop)
    wait_healthy(simulator, "/_sim/health")
    token, _ = _provision(env, simulator.base_url + "/v1")
    off = _serve("tracing-off", env, workdir)
    cleanup.callback(off.stop)
    on = _serve("tracing-on", {**env, "CHATGRID_OTEL_ENDPOINT": counter.base_url}, workdir)
    cleanup.callback(on.stop)
    targets = {
        "direct": (simulator.base_url, DIRECT_KEY, None),
        "off": (off.base_url, token, off),
        "on": (on.base_url, token, on),
    }
    if args.before_src:
        before = _serve("before", {**env, "PYTHONPATH": str(args.before_src.resolve())}, workdir)
        cleanup.callback(before.stop)
        targets["before"] = (before.base_url, token, before)
    sides = [side for side in TITLES if side in targets]
    script = workdir / "request.lua"
    figures = {side: Figures([], [], []) for side in sides}
    print(f"/v1 chat, tracing off and on, {args.rounds} round(s) (same run):", flush=True)
    for round_ in range(1, args.rounds + 1):
        for side in sides:
            url, key, service = targets[side]
            label = f"round {round_} {side:<6}"
            http_json("DELETE", simulator, "/_sim/requests")  # bounds the simulator's memory
            c1 = _measure(url, key, 1, args, script, f"{label} c=1")
            cpu_before = service.cpu_seconds() if service else 0.0
            c32 = _measure(url, key, 32, args, script, f"{label} c=32")
            cpu = (service.cpu_seconds() - cpu_before) * 1e6 / c32.requests if service else 0.0
            kept = figures[side]
            kept.p50_ms.append(c1.p50_ms)
            kept.rps.append(c32.requests_per_s)
            kept.requests += c1.requests + c32.requests
            if service:
                kept.cpu_us.append(cpu)
            print(
                f"  {label:<16} c=1 p50 {c1.p50_ms:.3f} ms   c=32 {c32.requests_per_s:>7,.0f}"
                f" req/s" + (f"   CPU {cpu:,.0f} µs/request" if service else ""),
                flush=True,
            )
    expected = SPANS_PER_CALL * figures["on"].requests
    deadline = time.monotonic() + 30
    while counter.spans < expected and time.monotonic() < deadline:
        time.sleep(0.2)  # the batch processor exports every few seconds
    _report(figures, sides, counter.spans, expected)
    return counter.spans >= expected


def _report(figures: dict[str, Figures], sides: list[str], spans: int, expected: int) -> None:
    med = {side: _medians(figures[side]) for side in sides}
    direct_p50 = med["direct"][0]
    print("\nMedians over the rounds:")
    print(f"  {'':<22}{'p50 c=1':>10}{'added p50':>11}{'req/s c=32':>12}{'CPU/request':>13}")
    for side in sides:
        title = TITLES[side]
        p50, rps, cpu = med[side]
        added = f"{p50 - direct_p50:+.3f} ms" if side != "direct" else ""
        cpu_text = f"{cpu:,.0f} µs" if side != "direct" else ""
        print(f"  {title:<22}{p50:>7.3f} ms{added:>11}{rps:>12,.0f}{cpu_text:>13}")
    (p_off, r_off, c_off), (p_on, r_on, c_on) = med["off"], med["on"]
    added_off, added_on = p_off - direct_p50, p_on - direct_p50
    print(
        f"  on / off: added p50 {added_on / added_off:.2f}x, req/s {r_on / r_off:.2f}x, "
        f"CPU per request {c_on / c_off:.2f}x ({c_on - c_off:+,.0f} µs)"
    )
    print(f"  off / direct: req/s {r_off / med['direct'][1]:.2f}x")
    if "before" in med:
        p_before, r_before, c_before = med["before"]
        print(
            f"  off / before: added p50 {added_off / (p_before - direct_p50):.2f}x, "
            f"req/s {r_off / r_before:.2f}x, CPU per request {c_off / c_before:.2f}x "
            f"({c_off - c_before:+,.0f} µs)"
        )
    print(f"  spans received: {spans:,} for {expected // SPANS_PER_CALL:,} traced calls")


def _medians(figures: Figures) -> tuple[float, float, float]:
    cpu = statistics.median(figures.cpu_us) if figures.cpu_us else 0.0
    return statistics.median(figures.p50_ms), statistics.median(figures.rps), cpu


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    cleanup = ExitStack()
    try:
        if not run(args, cleanup):
            print("spans went missing: fewer than three per traced call", file=sys.stderr)
            return 1
    except BenchError as error:
        print(f"\nbenchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the servers", file=sys.stderr)
        return 130
    finally:
        cleanup.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
