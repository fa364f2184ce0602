"""Scale figures for one ``chatgrid serve`` worker: idle RSS, 1,000 open streams, a soak.

Starts the simulator and ``chatgrid serve`` (one worker: the server process
is the worker, there is no supervisor) on fresh SQLite through ``_stack``,
as ``gateway.py`` does, then:

1. **Idle.** A few warm-up calls (BYOK, shared credits, streamed), then the
   worker's RSS once it has settled (``VmRSS`` from ``/proc``).
2. **Soak.** Moderate load at a fixed rate (default 100 requests/s: three in
   four non-streaming chat, one in four streamed, BYOK and shared credits
   taking turns) for ``BENCH_SOAK_SECONDS`` (default 600), the RSS sampled
   every 5 s. Prints start, end and max RSS and the least-squares slope
   after warm-up; *flat* means that slope, over 10 minutes, stays under
   ``FLAT_MIB_PER_10_MIN``.
3. **Open streams.** 1,000 streamed chat completions at once, each asked to
   stream slowly (``[sim:slow=MS]``) so that all are open together; counts
   every error (a status other than 200, a stream without ``[DONE]``, a
   socket error or a timeout) and samples the worker's RSS while they run.

Each phase ends with the ledger check: one row per upstream call. Exit 1
when the run failed: a server did not start, any request of the soak or of
the open streams failed, or the ledger did not match. The targets (all 1,000
open at once, a flat soak) are informational, like ``gateway.py``'s. The
file-descriptor soft limit is raised to the hard limit first; the servers
inherit it.

    BENCH_SOAK_SECONDS=600 .venv/bin/python bench/scale.py [--streams 1000] [--soak-rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

from _procs import BenchError, Service
from _report import Target as Goal
from _report import write_json
from _stack import BYOK_ORG, SHARED_ORG, Stack, start_stack
from _stream import Target, _Connection

RESULTS = Path(__file__).resolve().parent / "results" / "scale.json"
PATH = "/v1/chat/completions"
STREAM_TOKENS = 16
SLOW_MS = 2000  # between events: 20 events make a stream last ~40 s, so all can be open at once
STREAM_TIMEOUT_S = 180.0
SOAK_CONNECTIONS = 10
SAMPLE_EVERY_S = 5.0
FLAT_MIB_PER_10_MIN = 5.0  # at 100 req/s: a leak of ~90 bytes per request would cross it
SETTLE_WINDOW = 6  # idle: this many samples 0.5 s apart within SETTLE_KIB
SETTLE_KIB = 256
MIB = 1024.0
#: The simulator keeps up to 200,000 request records; the soak's are read once, at its end.
MAX_SOAK_CALLS = 150_000
_T = TypeVar("_T")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000, help="streams open at once")
    parser.add_argument(
        "--soak-seconds",
        type=float,
        default=float(os.environ.get("BENCH_SOAK_SECONDS", "600")),
        help="soak length (default: $BENCH_SOAK_SECONDS, else 600)",
    )
    parser.add_argument("--soak-rate", type=float, default=100, help="soak requests per second")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    return parser.parse_args(argv)


def raise_fd_limit() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit; child processes inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak so far) of a process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def rss_mib(pid: int) -> float:
    return memory_kib(pid)["VmRSS"] / MIB


def children_rss(pid: int) -> dict[int, float]:
    """RSS (MiB) of the worker's own children (the document extraction child, once started)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found[int(entry.name)] = rss_mib(int(entry.name))
        except (OSError, KeyError, ValueError):
            continue  # gone meanwhile, or a kernel thread
    return found


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    result: _T = uvloop.run(coroutine)
    return result


def chat_body(*, stream: bool, slow_ms: int = 0) -> bytes:
    directives = f"[sim:tokens={STREAM_TOKENS}]" + (f"[sim:slow={slow_ms}]" if slow_ms else "")
    return (
        b'{"model":"gpt-4o-mini",'
        + (b'"stream":true,' if stream else b"")
        + b'"messages":[{"role":"user","content":"hello '
        + directives.encode()
        + b'"}]}'
    )


async def read_response(
    connection: _Connection, on_first_chunk: Callable[[], None] | None = None
) -> tuple[int, bytes]:
    """Read one response (chunked or with a length): its status and body."""
    reader = connection.reader
    if reader is None:
        raise BenchError(f"{connection.label}: connection not open")
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    lower = head.lower()
    if b"transfer-encoding: chunked" not in lower:
        length = int(lower.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        return status, await reader.readexactly(length)
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return status, bytes(body)
        body += (await reader.readexactly(size + 2))[:-2]
        if on_first_chunk is not None:
            on_first_chunk()
            on_first_chunk = None


async def send(
    connection: _Connection, on_first_chunk: Callable[[], None] | None = None
) -> tuple[int, bytes]:
    """Write the connection's request and read its response."""
    if connection.writer is None:
        raise BenchError(f"{connection.label}: connection not open")
    connection.writer.write(connection.request)
    return await read_response(connection, on_first_chunk)


def response_error(status: int, body: bytes, *, stream: bool) -> str | None:
    if status != 200:
        return f"HTTP {status}"
    if stream and b"data: [DONE]" not in body:
        return "stream without [DONE]"
    if not stream and b'"usage"' not in body:
        return "reply without usage"
    return None


# -- idle ---------------------------------------------------------------------------------------


def warm_up(stack: Stack) -> None:
    async def calls() -> None:
        for token in (stack.byok_token, stack.shared_token):
            for stream in (False, True):
                target = _target(stack, token)
                connection = _Connection(target, chat_body(stream=stream))
                await connection.open()
                try:
                    for _ in range(20):
                        status, body = await send(connection)
                        if problem := response_error(status, body, stream=stream):
                            raise BenchError(f"warm-up call failed: {problem}: {body[:300]!r}")
                finally:
                    connection.close()

    _run(calls())


def settled_rss(pid: int, timeout: float = 30.0) -> float:
    """The RSS (MiB) once SETTLE_WINDOW samples lie within SETTLE_KIB (or at the timeout)."""
    samples: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        samples.append(memory_kib(pid)["VmRSS"])
        window = samples[-SETTLE_WINDOW:]
        if len(window) == SETTLE_WINDOW and max(window) - min(window) <= SETTLE_KIB:
            break
        time.sleep(0.5)
    return samples[-1] / MIB


def _target(stack: Stack, token: str) -> Target:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return Target("gateway", stack.gateway.base_url + PATH, headers)


# -- soak ---------------------------------------------------------------------------------------


class Soak:
    """Fixed-rate load on keep-alive connections; the worker's RSS sampled as it runs."""

    def __init__(self, stack: Stack, seconds: float, rate: float) -> None:
        self.stack = stack
        self.seconds = seconds
        self.interval = SOAK_CONNECTIONS / rate  # per connection
        self.done = 0
        self.late = 0  # slots skipped because the previous call on that connection overran
        self.errors: Counter[str] = Counter()
        self.samples: list[tuple[float, float]] = []  # (seconds since start, RSS MiB)

    async def _client(self, index: int, started: float) -> None:
        tokens = (self.stack.byok_token, self.stack.shared_token)
        connections = {
            (token, stream): _Connection(_target(self.stack, token), chat_body(stream=stream))
            for token in tokens
            for stream in (False, True)
        }
        slot = index * self.interval / SOAK_CONNECTIONS  # spread the clients' phases
        call = 0
        try:
            while slot < self.seconds:
                delay = started + slot - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                stream = (call + index) % 4 == 3
                await self._one(connections[tokens[call % 2], stream], stream=stream)
                call += 1
                slot += self.interval
                while started + slot < time.monotonic():
                    self.late += 1
                    slot += self.interval
        finally:
            for connection in connections.values():
                connection.close()

    async def _one(self, connection: _Connection, *, stream: bool) -> None:
        try:
            if connection.writer is None or connection.writer.is_closing():
                await connection.open()
            status, reply = await asyncio.wait_for(send(connection), STREAM_TIMEOUT_S)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as error:
            self.errors[type(error).__name__] += 1
            connection.close()
            connection.writer = None
            return
        if problem := response_error(status, reply, stream=stream):
            self.errors[problem] += 1
        else:
            self.done += 1

    async def _sampler(self, started: float) -> None:
        pid = self.stack.gateway.pid
        while True:
            self.samples.append((time.monotonic() - started, rss_mib(pid)))
            await asyncio.sleep(SAMPLE_EVERY_S)

    async def run(self) -> None:
        started = time.monotonic()
        sampler = asyncio.ensure_future(self._sampler(started))
        try:
            await asyncio.gather(*(self._client(i, started) for i in range(SOAK_CONNECTIONS)))
        finally:
            sampler.cancel()
        self.samples.append((time.monotonic() - started, rss_mib(self.stack.gateway.pid)))


def slope_mib_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of RSS over time."""
    n = len(samples)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in samples) / n
    mean_r = sum(r for _, r in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    return sum((t - mean_t) * (r - mean_r) for t, r in samples) / spread * 60 if spread else 0.0


# -- open streams -------------------------------------------------------------------------------


class OpenStreams:
    """N slow streams at once, each on its own connection; how many were open together."""

    def __init__(self, stack: Stack, count: int) -> None:
        self.stack = stack
        self.count = count
        self.open_now = 0
        self.peak_open = 0
        self.completed = 0
        self.errors: Counter[str] = Counter()
        self.rss_at_peak_open = 0.0
        self.max_rss = 0.0
        self.all_open_after_s = float("nan")

    def _opened(self) -> None:
        self.open_now += 1
        self.peak_open = max(self.peak_open, self.open_now)

    async def _stream(self, body: bytes, started: float) -> None:
        connection = _Connection(_target(self.stack, self.stack.byok_token), body)
        opened = False

        def first_chunk() -> None:
            nonlocal opened
            opened = True
            self._opened()
            if self.open_now == self.count:
                self.all_open_after_s = time.monotonic() - started

        try:
            async with asyncio.timeout(STREAM_TIMEOUT_S):
                await connection.open()
                status, reply = await send(connection, first_chunk)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as error:
            self.errors[type(error).__name__] += 1
        else:
            if problem := response_error(status, reply, stream=True):
                self.errors[problem] += 1
            else:
                self.completed += 1
        finally:
            if opened:
                self.open_now -= 1
            connection.close()

    async def _sampler(self) -> None:
        pid = self.stack.gateway.pid
        while True:
            rss = rss_mib(pid)
            self.max_rss = max(self.max_rss, rss)
            if self.open_now == self.peak_open and self.open_now:
                self.rss_at_peak_open = max(self.rss_at_peak_open, rss)
            await asyncio.sleep(0.25)

    async def run(self) -> None:
        body = chat_body(stream=True, slow_ms=SLOW_MS)
        started = time.monotonic()
        sampler = asyncio.ensure_future(self._sampler())
        try:
            await asyncio.gather(*(self._stream(body, started) for _ in range(self.count)))
        finally:
            sampler.cancel()


# -- the run ------------------------------------------------------------------------------------


def ledger_rows(stack: Stack) -> int:
    return sum(sum(outcomes.values()) for outcomes in stack.ledger_rows_by_org().values())


def check_ledger(stack: Stack, rows_before: int, upstream: int, label: str) -> str:
    rows = ledger_rows(stack) - rows_before
    verdict = "OK" if rows == upstream else "MISMATCH"
    line = f"  ledger ({label}): {rows:,} rows for {upstream:,} upstream calls  {verdict}"
    if rows != upstream:
        raise BenchError(line)
    return line


def _mib(value: float) -> str:
    return f"{value:.1f} MiB"


def run(args: argparse.Namespace, cleanup: ExitStack) -> dict[str, Any]:
    if args.soak_rate * args.soak_seconds > MAX_SOAK_CALLS:
        raise BenchError(f"a soak of more than {MAX_SOAK_CALLS:,} calls overflows the log")
    fd_limit = raise_fd_limit()
    workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="chatgrid-scale-")))
    print(f"Starting the simulator and ChatGrid (one worker; open-file limit {fd_limit:,}) ...")
    stack = start_stack(cleanup, workdir)
    worker: Service = stack.gateway
    load = os.getloadavg()[0]
    print(f"Load average {load:.1f} on {os.cpu_count()} cores before the run.\n", flush=True)

    warm_up(stack)
    idle = settled_rss(worker.pid)
    kids = children_rss(worker.pid)
    print(f"Idle worker (after 80 warm-up calls, settled): RSS {_mib(idle)}", flush=True)
    for pid, rss in kids.items():
        print(f"  its child process {pid}: RSS {_mib(rss)}")

    print(
        f"\nSoak: {args.soak_rate:g} req/s for {args.soak_seconds:g} s "
        f"(1 in 4 streamed; BYOK and shared credits) ...",
        flush=True,
    )
    stack.clear_upstream_log()
    rows_before, cpu_before = ledger_rows(stack), worker.cpu_seconds()
    soak = Soak(stack, args.soak_seconds, args.soak_rate)
    _run(soak.run())
    upstream = stack.upstream_calls_by_org(settle=1.0)  # the simulator's log, read after the load
    cpu_us = (worker.cpu_seconds() - cpu_before) * 1e6 / max(soak.done, 1)
    worker.check_alive()
    warm_s = max(30.0, args.soak_seconds / 5)
    after_warm = [s for s in soak.samples if s[0] >= warm_s]
    slope = slope_mib_per_min(after_warm)
    rss_values = [r for _, r in soak.samples]
    print(
        f"  {soak.done:,} calls ok, {sum(soak.errors.values())} errors {dict(soak.errors)}, "
        f"{soak.late} slots late; worker CPU {cpu_us:.0f} µs per call"
    )
    print(
        f"  RSS: start {_mib(rss_values[0])}, end {_mib(rss_values[-1])}, "
        f"max {_mib(max(rss_values))}; after the {warm_s:.0f} s warm-up "
        f"{_mib(after_warm[0][1] if after_warm else float('nan'))} -> {_mib(rss_values[-1])}, "
        f"slope {slope * 10:+.2f} MiB per 10 min ({len(soak.samples)} samples)"
    )
    ledger_lines = [check_ledger(stack, rows_before, sum(upstream.values()), "soak")]
    print(ledger_lines[-1], flush=True)

    print(
        f"\nOpen streams: {args.streams:,} at once, each {STREAM_TOKENS} tokens "
        f"{SLOW_MS} ms apart ...",
        flush=True,
    )
    stack.clear_upstream_log()
    rows_before = ledger_rows(stack)
    streams = OpenStreams(stack, args.streams)
    _run(streams.run())
    upstream = stack.upstream_calls_by_org(settle=1.0)
    worker.check_alive()
    stream_errors = sum(streams.errors.values())
    peak = memory_kib(worker.pid)["VmHWM"] / MIB
    print(
        f"  {streams.completed:,} completed, errors: {stream_errors} {dict(streams.errors)}; "
        f"{streams.peak_open:,} open at once at the peak"
        + (
            f" (all {args.streams:,} after {streams.all_open_after_s:.1f} s)"
            if streams.peak_open == args.streams
            else ""
        )
    )
    print(
        f"  worker RSS: {_mib(streams.rss_at_peak_open)} with {streams.peak_open:,} open, "
        f"max sampled {_mib(streams.max_rss)}, high-water mark {_mib(peak)} "
        f"(idle: {_mib(idle)})"
    )
    ledger_lines.append(check_ledger(stack, rows_before, upstream[BYOK_ORG], "streams"))
    print(ledger_lines[-1])

    goals = [
        Goal("streams open at once", streams.peak_open, args.streams, "", True),
        Goal("soak RSS slope per 10 min", slope * 10, FLAT_MIB_PER_10_MIN, "MiB", False),
    ]
    print("\nTargets (informational):", *(goal.line() for goal in goals), sep="\n")
    if stream_errors or sum(soak.errors.values()):
        raise BenchError(f"errors: soak {dict(soak.errors)}, open streams {dict(streams.errors)}")
    return {
        "load_average_before": load,
        "open_file_limit": fd_limit,
        "idle_rss_mib": idle,
        "idle_children_rss_mib": kids,
        "soak": {
            "seconds": args.soak_seconds,
            "rate": args.soak_rate,
            "calls_ok": soak.done,
            "errors": dict(soak.errors),
            "late_slots": soak.late,
            "worker_cpu_us_per_call": cpu_us,
            "warmup_s": warm_s,
            "rss_samples_mib": soak.samples,
            "slope_mib_per_10_min": slope * 10,
            "flat_bound_mib_per_10_min": FLAT_MIB_PER_10_MIN,
            "upstream_calls": dict(upstream),
        },
        "streams": {
            "requested": args.streams,
            "completed": streams.completed,
            "errors": dict(streams.errors),
            "peak_open": streams.peak_open,
            "all_open_after_s": streams.all_open_after_s,
            "rss_at_peak_open_mib": streams.rss_at_peak_open,
            "max_rss_mib": streams.max_rss,
            "vm_hwm_mib": peak,
        },
        "orgs": [BYOK_ORG, SHARED_ORG],
        "ledger": ledger_lines,
    }


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    cleanup = ExitStack()
    try:
        report = run(args, cleanup)
        write_json(args.output, report)
        print(f"\nResults written to {args.output}")
    except BenchError as error:
        print(f"\nbenchmark failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the servers", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cleanup.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
