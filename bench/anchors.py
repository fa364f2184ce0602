"""LiteLLM's proxy measured beside ChatGrid, in the same run, under the same load.

``make bench-anchors`` installs LiteLLM into its own venv (``.venv-anchors/``,
never ChatGrid's) and runs this script. It starts the simulator and
``chatgrid serve`` through ``_stack`` (as ``gateway.py`` does), writes a
LiteLLM config that points at the same simulator as an OpenAI-compatible
upstream into the run's temp dir, starts ``litellm`` (one worker, master key,
no database), then measures the three sides one after the other for each
scenario: the simulator called directly (the baseline), ChatGrid (a BYOK
org: token auth, limits, a ledger row in SQLite per call) and LiteLLM.

* chat c=1 with wrk: p50 and p99, and what each proxy adds to the direct p50;
* chat c=32 with wrk: requests/s and CPU per request of each proxy process;
* streamed chat: time to the first SSE event, the three sides taking turns;
* RSS: idle after warm-up and settled, and the high-water mark after the load.

A non-2xx answer or a socket error from the simulator or ChatGrid stops the
run (exit 1); LiteLLM's are counted and printed. LiteLLM runs with a minimal
environment (no inherited variables), and the script refuses a LiteLLM
install that carries a ``.pth`` start-up hook or is one of the releases
published to PyPI by an attacker (1.82.7, 1.82.8).

    .venv/bin/python bench/anchors.py --litellm .venv-anchors/bin/litellm [--duration 10]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _procs import BenchError, Service, free_port, start_service, wait_healthy
from _report import percentile, write_json
from _stack import DIRECT_KEY, Stack, start_stack
from _stream import Target, measure_streams
from _wrk import WrkResult, run_wrk
from scale import memory_kib, raise_fd_limit, settled_rss

RESULTS = Path(__file__).resolve().parent / "results" / "anchors.json"
PATH = "/v1/chat/completions"
CHAT_BODY = (
    b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello [sim:tokens=16]"}]}'
)
STREAM_BODY = (
    b'{"model":"gpt-4o-mini","stream":true,'
    b'"messages":[{"role":"user","content":"hello [sim:tokens=16]"}]}'
)
LITELLM_UPSTREAM_KEY = "sk-litellm-abcdefgh1234"
LITELLM_MASTER_KEY = "sk-anchor-master-abcdefgh1234"
COMPROMISED = {"1.82.7", "1.82.8"}
ALLOWED_PTH = {"distutils-precedence.pth"}
START_TIMEOUT = 300.0
SIDES = ("direct", "ChatGrid", "LiteLLM")


@dataclass(frozen=True)
class Side:
    name: str
    base_url: str
    key: str
    process: Service  # whose CPU and memory are counted

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--litellm", type=Path, required=True, help="the litellm executable")
    parser.add_argument("--duration", type=float, default=10, help="seconds per load run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up before each")
    parser.add_argument("--streams", type=int, default=100, help="streamed requests per side")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    return parser.parse_args(argv)


def litellm_version(executable: Path) -> str:
    """The installed version, after refusing an install that looks tampered with.

    Read from the files alone: no interpreter of that venv runs before the checks pass.
    """
    site_dirs = sorted((executable.parent.parent / "lib").glob("python3*/site-packages"))
    infos = [info for d in site_dirs for info in d.glob("litellm-*.dist-info")]
    if not executable.exists() or len(infos) != 1:
        raise BenchError(f"no single LiteLLM install beside {executable} (make bench-anchors)")
    version = infos[0].name.removeprefix("litellm-").removesuffix(".dist-info")
    if version in COMPROMISED:
        raise BenchError(f"litellm {version} is a known-malicious release; install another")
    hooks = [
        str(pth)
        for directory in site_dirs
        for pth in directory.glob("*.pth")
        if pth.name not in ALLOWED_PTH and not pth.name.startswith("__editable__")
    ]
    if hooks:
        raise BenchError(f"unexpected start-up hooks (.pth) in LiteLLM's venv: {hooks}")
    return version


def start_litellm(
    cleanup: ExitStack, executable: Path, workdir: Path, upstream: str
) -> tuple[Service, str]:
    config = workdir / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: gpt-4o-mini\n"
        "    litellm_params:\n"
        "      model: openai/gpt-4o-mini\n"
        f"      api_base: {upstream}\n"
        f"      api_key: {LITELLM_UPSTREAM_KEY}\n"
        "general_settings:\n"
        f"  master_key: {LITELLM_MASTER_KEY}\n"
        "litellm_settings:\n"
        "  telemetry: false\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(workdir),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the price list at start
        "LITELLM_LOG": "ERROR",
    }
    port = free_port()
    argv = [str(executable), "--config", str(config), "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--num_workers", "1"]
    service = start_service("litellm", argv, env, port, workdir)
    cleanup.callback(service.stop)
    wait_healthy(service, "/health/liveliness", timeout=START_TIMEOUT)
    return service, LITELLM_MASTER_KEY


class Runs:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.script = workdir / "request.lua"

    def load(self, side: Side, connections: int) -> tuple[WrkResult, float]:
        """Warm up, then one measured run, and the CPU µs per request of the side's process."""

        def measure(seconds: float) -> WrkResult:
            return run_wrk(
                side.base_url + PATH,
                CHAT_BODY,
                side.headers,
                connections=connections,
                duration_s=seconds,
                script_path=self.script,
            )

        print(f"  chat c={connections:<3} {side.name:<9} ...", end="", flush=True)
        measure(self.args.warmup)
        before = side.process.cpu_seconds()
        result = measure(self.args.duration)
        cpu_us = (side.process.cpu_seconds() - before) * 1e6 / max(result.requests, 1)
        if side.name != "LiteLLM":
            result.check(f"chat c={connections} {side.name}")
        side.process.check_alive()
        print(
            f" {result.requests_per_s:>8,.0f} req/s  p50 {result.p50_ms:.2f} ms"
            f"  p99 {result.p99_ms:.2f} ms  errors {result.non_2xx + result.socket_errors}"
        )
        return result, cpu_us


def warm(side: Side, script: Path) -> None:
    """A few calls first: LiteLLM's first call alone takes seconds."""
    run_wrk(
        side.base_url + PATH,
        CHAT_BODY,
        side.headers,
        connections=1,
        duration_s=2,
        script_path=script,
    ).check(f"{side.name} warm-up")


def _fmt(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "-"
    if unit == "ms":
        return f"{value:,.2f} ms"
    if unit == "x":
        return f"{value:.3f}x"
    return f"{value:,.0f} {unit}".rstrip()


def table(rows: list[tuple[str, list[float], str]]) -> str:
    lines = [f"  {'':<32}" + "".join(f"{name:>16}" for name in SIDES)]
    for label, values, unit in rows:
        lines.append(f"  {label:<32}" + "".join(f"{_fmt(v, unit):>16}" for v in values))
    return "\n".join(lines)


def run(args: argparse.Namespace, cleanup: ExitStack) -> dict[str, Any]:
    version = litellm_version(args.litellm)
    raise_fd_limit()
    workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="chatgrid-anchors-")))
    print(f"Starting the simulator, ChatGrid and LiteLLM {version} (data in {workdir}) ...")
    stack: Stack = start_stack(cleanup, workdir)
    litellm, master = start_litellm(
        cleanup, args.litellm, workdir, stack.simulator.base_url + "/v1"
    )
    sim = stack.simulator
    sides = [
        Side("direct", sim.base_url, DIRECT_KEY, sim),
        Side("ChatGrid", stack.gateway.base_url, stack.byok_token, stack.gateway),
        Side("LiteLLM", litellm.base_url, master, litellm),
    ]
    load = os.getloadavg()[0]
    print(f"Load average {load:.1f} on {os.cpu_count()} cores.\nMeasuring:", flush=True)
    runs = Runs(args, workdir)
    for side in sides:
        warm(side, runs.script)
    idle = [settled_rss(side.process.pid) for side in sides]
    c1 = [runs.load(side, 1) for side in sides]
    c32 = [runs.load(side, 32) for side in sides]
    print(f"  streams, the three taking turns, {args.streams} each ...", flush=True)
    targets = [Target(s.name, s.base_url + PATH, s.headers) for s in sides]
    streams = measure_streams(targets, STREAM_BODY, count=args.streams, warmup=10)
    high_water = [memory_kib(side.process.pid)["VmHWM"] / 1024 for side in sides]
    both = [(a, b) for (a, _), (b, _) in zip(c1, c32, strict=True)]
    direct_p50 = c1[0][0].p50_ms
    direct_rps = c32[0][0].requests_per_s
    nan = float("nan")
    rows: list[tuple[str, list[float], str]] = [
        ("chat c=1 p50", [r.p50_ms for r, _ in c1], "ms"),
        ("chat c=1 p50 added", [nan] + [r.p50_ms - direct_p50 for r, _ in c1[1:]], "ms"),
        ("chat c=1 p99", [r.p99_ms for r, _ in c1], "ms"),
        ("chat c=32 throughput", [r.requests_per_s for r, _ in c32], "req/s"),
        ("chat c=32, ratio to direct", [r.requests_per_s / direct_rps for r, _ in c32], "x"),
        ("chat c=32 p50", [r.p50_ms for r, _ in c32], "ms"),
        ("CPU per request, c=32", [cpu for _, cpu in c32], "µs"),
        ("stream first byte p50", [percentile(s.first_byte_ms, 50) for s in streams], "ms"),
        ("stream 16 tokens total p50", [percentile(s.total_ms, 50) for s in streams], "ms"),
        ("RSS idle (after warm-up)", idle, "MiB"),
        ("RSS high-water after the load", high_water, "MiB"),
        ("non-2xx answers (c=1 and c=32)", [float(a.non_2xx + b.non_2xx) for a, b in both], ""),
        (
            "socket errors, 2 s timeouts incl.",
            [float(a.socket_errors + b.socket_errors) for a, b in both],
            "",
        ),
    ]
    print(
        f"\nLiteLLM {version} beside ChatGrid, same run, same simulator upstream "
        f"({args.duration:g} s per load run; load average {load:.1f} on {os.cpu_count()} cores):"
    )
    print(table(rows))
    print(
        "\n  direct = the simulator itself (its CPU and RSS in that column). LiteLLM runs with"
        "\n  a master key and no database (no virtual keys, no spend logs); ChatGrid checks an"
        "\n  org token and commits a ledger row to SQLite for every call."
    )
    return {
        "litellm_version": version,
        "load_average": load,
        "duration_s": args.duration,
        "rows": {label: dict(zip(SIDES, values, strict=True)) for label, values, _ in rows},
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
