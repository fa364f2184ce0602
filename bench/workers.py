"""Requests/s of ``chatgrid serve`` with one worker and with two, in the same run.

Starts the simulator, provisions a BYOK org through the CLI (as
``gateway.py`` does), then for 1 and 2 workers in turn: starts
``chatgrid serve --workers N`` on the same SQLite data dir and Redis (more
than one worker needs Redis; the one-worker run uses it too, so the two
differ only in the worker count), waits until every worker has started,
and measures non-streaming chat at c=32 with wrk. The simulator called
directly is the baseline, measured in the same run. Prints each figure, its
ratio to the baseline and the two-worker speed-up, and checks that the
ledger holds one row per upstream call. Exit 1 means the run failed (a
server did not start, a response was not 2xx, or the ledger did not match).

On a 2-core machine wrk, the simulator and the workers share the cores, so
the speed-up is well under 2x: read it as what a second worker buys here.

    .venv/bin/python bench/workers.py [--duration 10] [--warmup 2]
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from _procs import BenchError, Service, free_port, start_service, venv_bin, wait_healthy
from _stack import BYOK_ORG, DIRECT_KEY, Stack, _env, _provision
from _wrk import WrkResult, run_wrk

CHAT_BODY = (
    b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello [sim:tokens=16]"}]}'
)
CONCURRENCY = 32
WORKER_COUNTS = (1, 2)
START_TIMEOUT = 180.0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per load run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per run")
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/0", help="Redis the workers share"
    )
    return parser.parse_args(argv)


def _started(service: Service, workers: int) -> bool:
    return service.log_tail(10_000).count("Application startup complete.") >= workers


def _serve(env: dict[str, str], workdir: Path, workers: int) -> Service:
    port = free_port()
    argv = [venv_bin("chatgrid"), "serve", "--port", str(port), "--workers", str(workers)]
    service = start_service(f"serve-{workers}w", argv, env, port, workdir)
    wait_healthy(service, "/healthz", timeout=START_TIMEOUT)
    deadline = time.monotonic() + START_TIMEOUT
    while not _started(service, workers):
        service.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(f"not every worker started:\n{service.log_tail()}")
        time.sleep(0.2)
    return service


def _stop(service: Service) -> None:
    """SIGTERM to the server's whole group (it leads a session), as systemd would."""
    if service.process.poll() is not None:
        return
    os.killpg(service.pid, signal.SIGTERM)
    try:
        service.process.wait(120)
    except subprocess.TimeoutExpired:
        os.killpg(service.pid, signal.SIGKILL)
        service.process.wait()
        log = service.log_tail(40)
        raise BenchError(f"{service.name} did not stop after SIGTERM:\n{log}") from None


def _load(url: str, token: str, args: argparse.Namespace, script: Path) -> WrkResult:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def measure(seconds: float) -> WrkResult:
        return run_wrk(
            url + "/v1/chat/completions",
            CHAT_BODY,
            headers,
            connections=CONCURRENCY,
            duration_s=seconds,
            script_path=script,
        )

    measure(args.warmup).check(f"{url} (warm-up)")
    result = measure(args.duration)
    result.check(url)
    return result


def run(args: argparse.Namespace, cleanup: ExitStack) -> bool:
    """The whole benchmark; returns whether the ledger matched the upstream's calls."""
    workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="chatgrid-bench-")))
    env = _env(workdir)
    env.update(
        CHATGRID_REDIS_URL=args.redis_url,
        CHATGRID_REDIS_PREFIX=f"bench-{secrets.token_hex(4)}",
        CHATGRID_LOG_LEVEL="info",  # the workers' start-up lines say when all are serving
    )
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
    byok_token, shared_token = _provision(env, simulator.base_url + "/v1")
    script = workdir / "request.lua"
    load = os.getloadavg()[0]
    print(
        f"Requests/s, non-streaming chat, c={CONCURRENCY}, BYOK, same run "
        f"(load average {load:.1f} on {os.cpu_count()} cores; figures mean little above it):",
        flush=True,
    )
    direct = _load(simulator.base_url, DIRECT_KEY, args, script)
    print(f"  simulator directly        {direct.requests_per_s:>8,.0f} req/s", flush=True)
    figures: dict[int, float] = {}
    ledger_ok = True
    for workers in WORKER_COUNTS:
        gateway = _serve(env, workdir, workers)
        try:
            stack = Stack(simulator, gateway, workdir, byok_token, shared_token)
            stack.clear_upstream_log()
            rows_before = sum(stack.ledger_rows_by_org().get(BYOK_ORG, {}).values())
            result = _load(gateway.base_url, byok_token, args, script)
            upstream = stack.upstream_calls_by_org(settle=2.0)[BYOK_ORG]
            rows = sum(stack.ledger_rows_by_org().get(BYOK_ORG, {}).values()) - rows_before
        finally:
            _stop(gateway)
        figures[workers] = result.requests_per_s
        ratio = result.requests_per_s / direct.requests_per_s
        print(
            f"  ChatGrid, {workers} worker{'s' if workers > 1 else ' '}      "
            f"{result.requests_per_s:>8,.0f} req/s  ({ratio:.2f}x direct, "
            f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms)",
            flush=True,
        )
        if rows != upstream:
            print(f"    ledger: {rows} rows for {upstream} upstream calls", file=sys.stderr)
            ledger_ok = False
    speedup = figures[2] / figures[1]
    print(f"  2 workers / 1 worker      {speedup:.2f}x")
    print(f"  ledger: one row per upstream call: {'yes' if ledger_ok else 'NO'}")
    return ledger_ok


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    cleanup = ExitStack()
    try:
        if not run(args, cleanup):
            return 1
    except BenchError as error:
        print(f"\nbenchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the servers", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        cleanup.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
