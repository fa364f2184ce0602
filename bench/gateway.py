"""How much ChatGrid's ``/v1`` gateway adds on top of its upstream.

Starts the local OpenAI simulator and a ``chatgrid serve`` on a fresh SQLite
database, provisions a BYOK org and a shared-credit org through the CLI, then
measures the simulator directly and through the gateway in the same run:

* non-streaming chat at c=1 (p50/p99, added ms) and c=32 (req/s), with wrk;
* shared credits at c=32, and embeddings at c=32;
* streamed chat: time to first byte and to the end of a 16-token stream.

Prints the comparison and the targets (informational: exit 0 either way),
flags runs disturbed by other processes on the machine, writes
``bench/results/latest.json``, checks that the ledger holds one row per
gateway call, and stops every process it started. Exit 1 means the run
itself failed: a server did not start, a response was not 2xx, or the
ledger did not match. ``--py-spy`` adds a profiled c=32 run at the end.

    .venv/bin/python bench/gateway.py [--duration 10] [--warmup 2] [--py-spy]
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from _procs import BenchError, machine_busy_seconds
from _profile import Profile, finish_recording, start_recording, summarize
from _report import LoadRun, as_json, render, stream_summary, targets, write_json
from _stack import BYOK_ORG, DIRECT_KEY, SHARED_ORG, Stack, start_stack
from _stream import Target, measure_streams
from _wrk import WrkResult, run_wrk

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
CHAT_BODY = (
    b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello [sim:tokens=16]"}]}'
)
STREAM_TOKENS = 16
STREAM_BODY = (
    b'{"model":"gpt-4o-mini","stream":true,'
    b'"messages":[{"role":"user","content":"hello [sim:tokens=16]"}]}'
)
EMBEDDINGS_BODY = b'{"model":"text-embedding-3-small","input":"hello"}'
CONCURRENCY = 32


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per load run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up before each")
    parser.add_argument("--streams", type=int, default=200, help="streamed requests per side")
    parser.add_argument("--no-embeddings", action="store_true", help="skip embeddings at c=32")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument(
        "--py-spy", action="store_true", help="then profile the gateway at c=32 (needs py-spy)"
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the temp dir and logs")
    return parser.parse_args(argv)


class Bench:
    """Runs the measurements and keeps the gateway-call books for the ledger check."""

    def __init__(self, stack: Stack, args: argparse.Namespace, workdir: Path) -> None:
        self.stack = stack
        self.args = args
        self.script = workdir / "request.lua"
        self.direct_url = stack.simulator.base_url
        self.completed: Counter[str] = Counter()  # gateway calls clients saw finish
        self.forwarded: Counter[str] = Counter()  # gateway calls the upstream received
        self.in_flight_bound: Counter[str] = Counter()  # calls wrk may have cut off at its stop

    def _headers(self, org: str | None) -> dict[str, str]:
        token = {
            None: DIRECT_KEY,
            BYOK_ORG: self.stack.byok_token,
            SHARED_ORG: self.stack.shared_token,
        }[org]
        return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def _base(self, org: str | None) -> str:
        return self.direct_url if org is None else self.stack.gateway.base_url

    def load(self, scenario: str, path: str, body: bytes, org: str | None, c: int) -> LoadRun:
        """Warm up, then one measured wrk run; ``org`` None calls the simulator directly."""
        side = "direct" if org is None else "gateway"
        label = f"{scenario} {side}"
        print(f"  {label:<28} c={c:<3} ...", end="", flush=True)
        url, headers = self._base(org) + path, self._headers(org)
        self.stack.clear_upstream_log()  # bounds the simulator's memory; starts the count

        def measure(seconds: float) -> WrkResult:
            return run_wrk(
                url, body, headers, connections=c, duration_s=seconds, script_path=self.script
            )

        warm = measure(self.args.warmup)
        warm.check(f"{label} (warm-up)")
        services = self.stack.services
        cpu_before = [service.cpu_seconds() for service in services]
        busy_before = machine_busy_seconds()
        result = measure(self.args.duration)
        busy = machine_busy_seconds() - busy_before
        cpu_used = [s.cpu_seconds() - b for s, b in zip(services, cpu_before, strict=True)]
        other_cores = (busy - sum(cpu_used) - result.wrk_cpu_s) / result.duration_s
        result.check(label)
        for service in services:
            service.check_alive()
        if org is not None:
            self._book(org, warm, result, connections=c)
        print(
            f" {result.requests_per_s:>8,.0f} req/s  p50 {result.p50_ms:.2f} ms"
            f"  p99 {result.p99_ms:.2f} ms  (other load: {max(other_cores, 0):.2f} CPUs)"
        )
        cpu = {
            s.name: used * 1e6 / result.requests for s, used in zip(services, cpu_used, strict=True)
        }
        return LoadRun(scenario, side, c, result, cpu, max(other_cores, 0.0))

    def _book(self, org: str, *runs: WrkResult, connections: int) -> None:
        """Count gateway calls: as clients saw them, and as the upstream received them."""
        self.completed[org] += sum(run.requests for run in runs)
        self.in_flight_bound[org] += connections * len(runs)
        self.forwarded += self.stack.upstream_calls_by_org()

    def profile(self, seconds: float, output: Path) -> Profile:
        """One more chat c=32 run with py-spy on the gateway (its numbers are not reported)."""
        print(f"  {'profile chat_c32 gateway':<28} py-spy {seconds:g} s ...", flush=True)
        c, path = CONCURRENCY, "/v1/chat/completions"
        self.stack.clear_upstream_log()
        recording = start_recording(self.stack.gateway.pid, seconds, output)
        result = run_wrk(
            self.stack.gateway.base_url + path,
            CHAT_BODY,
            self._headers(BYOK_ORG),
            connections=c,
            duration_s=seconds,
            script_path=self.script,
        )
        finish_recording(recording)
        result.check("profile run")
        self._book(BYOK_ORG, result, connections=c)
        return summarize(output, seconds)

    def pair(self, scenario: str, path: str, body: bytes, c: int) -> dict[str, LoadRun]:
        return {
            "direct": self.load(scenario, path, body, None, c),
            "gateway": self.load(scenario, path, body, BYOK_ORG, c),
        }

    def streams(self) -> dict[str, dict[str, float]]:
        count, warmup = self.args.streams, max(10, self.args.streams // 10)
        print(f"  {'stream (alternating)':<28} {count} per side ...", end="", flush=True)
        path = "/v1/chat/completions"
        sides = [
            Target("direct", self.direct_url + path, self._headers(None)),
            Target("gateway", self.stack.gateway.base_url + path, self._headers(BYOK_ORG)),
        ]
        self.stack.clear_upstream_log()
        direct, gateway = measure_streams(sides, STREAM_BODY, count=count, warmup=warmup)
        self.completed[BYOK_ORG] += count + warmup
        self.forwarded += self.stack.upstream_calls_by_org(settle=0)
        summaries = {
            "direct": stream_summary(direct.first_byte_ms, direct.total_ms),
            "gateway": stream_summary(gateway.first_byte_ms, gateway.total_ms),
        }
        print(f" first byte p50 {summaries['gateway']['ttfb_p50_ms']:.2f} ms (gateway)")
        return summaries

    def check_ledger(self) -> tuple[dict[str, Any], list[str]]:
        """One ledger row per call the gateway forwarded, and never fewer than clients saw."""
        rows = self.stack.ledger_rows_by_org()
        lines, ok, orgs = [], True, {}
        for org in (BYOK_ORG, SHARED_ORG):
            outcomes = rows.get(org, Counter())
            total = sum(outcomes.values())
            done, forwarded, bound = (
                self.completed[org],
                self.forwarded[org],
                self.in_flight_bound[org],
            )
            org_ok = total == forwarded and done <= total <= done + bound
            ok = ok and org_ok
            orgs[org] = {
                "ledger_rows": total,
                "outcomes": dict(outcomes),
                "forwarded_upstream": forwarded,
                "completed_by_clients": done,
                "in_flight_bound": bound,
                "match": org_ok,
            }
            lines.append(
                f"  {org:<7} {total:>7,} rows = {forwarded:>7,} calls forwarded upstream; "
                f"clients completed {done:,} (+{total - done} cut off when wrk stopped, "
                f"at most {bound}); outcomes {dict(outcomes)}  {'OK' if org_ok else 'MISMATCH'}"
            )
        return {"orgs": orgs, "match": ok}, lines


def _meta(args: argparse.Namespace, started: datetime) -> dict[str, Any]:
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return {
        "started_at": started.isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0].strip(),
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "connections": CONCURRENCY,
        "stream_requests": args.streams,
        "stream_tokens": STREAM_TOKENS,
    }


def run(args: argparse.Namespace, cleanup: ExitStack) -> bool:
    """The whole benchmark; returns whether the ledger matched."""
    keep, started = args.keep_data, datetime.now(UTC)
    workdir = (
        Path(tempfile.mkdtemp(prefix="chatgrid-bench-"))
        if keep
        else Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="chatgrid-bench-")))
    )
    print(f"Starting the simulator and ChatGrid (data in {workdir}) ...", flush=True)
    stack = start_stack(cleanup, workdir)
    bench = Bench(stack, args, workdir)
    c = CONCURRENCY
    chat, embeddings = "/v1/chat/completions", "/v1/embeddings"
    print("Measuring:")
    loads = {"chat_c1": bench.pair("chat_c1", chat, CHAT_BODY, 1)}
    loads["chat_c32"] = bench.pair("chat_c32", chat, CHAT_BODY, c)
    shared = bench.load("shared_c32", chat, CHAT_BODY, SHARED_ORG, c)
    loads["shared_c32"] = {"direct": loads["chat_c32"]["direct"], "gateway": shared}
    streams = bench.streams()
    if not args.no_embeddings:
        loads["embeddings_c32"] = bench.pair("embeddings_c32", embeddings, EMBEDDINGS_BODY, c)
    profile = None
    if args.py_spy:
        raw = args.output.parent / "gateway-c32.pyspy.txt"
        raw.parent.mkdir(parents=True, exist_ok=True)
        profile = bench.profile(args.duration, raw)
    goals = targets(loads["chat_c1"], loads["chat_c32"], shared)
    ledger, ledger_lines = bench.check_ledger()
    meta = _meta(args, started)
    print(render(loads, streams, goals, ledger_lines, meta))
    report = as_json(loads, streams, goals, ledger, meta)
    if profile is not None:
        print("\n".join(profile.render(raw)))
        report["profile"] = asdict(profile)
    write_json(args.output, report)
    print(f"Results written to {args.output}")
    if keep:
        print(f"Data and server logs kept in {workdir}")
    return bool(ledger["match"])


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through the same clean-up as Ctrl-C


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    cleanup = ExitStack()
    try:
        if not run(args, cleanup):
            print("ledger check failed: rows do not match gateway calls", file=sys.stderr)
            return 1
    except BenchError as error:
        print(f"\nbenchmark failed: {error}", file=sys.stderr)
        if not args.keep_data:
            print("(run again with --keep-data to keep the servers' logs)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the servers", file=sys.stderr)
        return 130
    finally:
        # A second Ctrl-C must not cut the clean-up short and leave servers behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cleanup.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
