"""Turn measurements into the comparison table, the targets and the JSON record.

Every gateway figure is read against the simulator measured directly in the
same run, on the same machine, minutes apart: absolute numbers move with the
machine, the added milliseconds and the ratios much less.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from _wrk import WrkResult

#: The gateway's performance bar (informational: a miss prints MISS, it does not fail).
MAX_ADDED_P50_MS = 1.0
MAX_ADDED_P99_MS = 3.0
MIN_REQUESTS_PER_S = 2000.0
#: Outside load (in CPUs) above which a run's numbers are flagged as disturbed.
NOISY_CPUS = 0.15


@dataclass(frozen=True)
class LoadRun:
    scenario: str
    side: str  # "direct" or "gateway"
    connections: int
    wrk: WrkResult
    cpu_us_per_request: dict[str, float]
    #: CPUs' worth of work by processes outside the benchmark during the measured run.
    other_load_cpus: float


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    limit: float
    unit: str
    higher_is_better: bool

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit

    def line(self) -> str:
        sign = ">=" if self.higher_is_better else "<="
        verdict = "PASS" if self.met else "MISS"
        limit = f"({sign} {_num(self.limit)})"
        return f"  {self.name:<34} {_num(self.value):>9} {self.unit:<6} {limit:<10} {verdict}"


def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def stream_summary(first_byte_ms: list[float], total_ms: list[float]) -> dict[str, float]:
    return {
        "requests": len(first_byte_ms),
        "ttfb_p50_ms": percentile(first_byte_ms, 50),
        "ttfb_p99_ms": percentile(first_byte_ms, 99),
        "total_p50_ms": percentile(total_ms, 50),
        "total_p99_ms": percentile(total_ms, 99),
    }


def targets(
    chat_c1: dict[str, LoadRun], chat_c32: dict[str, LoadRun], shared_c32: LoadRun
) -> list[Target]:
    added_p50 = chat_c1["gateway"].wrk.p50_ms - chat_c1["direct"].wrk.p50_ms
    added_p99 = chat_c1["gateway"].wrk.p99_ms - chat_c1["direct"].wrk.p99_ms
    return [
        Target("added latency p50, c=1", added_p50, MAX_ADDED_P50_MS, "ms", False),
        Target("added latency p99, c=1", added_p99, MAX_ADDED_P99_MS, "ms", False),
        Target(
            "throughput c=32, BYOK",
            chat_c32["gateway"].wrk.requests_per_s,
            MIN_REQUESTS_PER_S,
            "req/s",
            True,
        ),
        Target(
            "throughput c=32, shared credits",
            shared_c32.wrk.requests_per_s,
            MIN_REQUESTS_PER_S,
            "req/s",
            True,
        ),
    ]


def _num(value: float) -> str:
    if math.isnan(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.2f}"


def _row(label: str, direct: float, gateway: float, unit: str, *, added: bool) -> str:
    ratio = gateway / direct if direct else math.nan
    delta = f"{gateway - direct:+.2f} {unit}" if added else ""
    return (
        f"  {label:<34} {_num(direct):>9} {_num(gateway):>9} {unit:<6}"
        f" {delta:>12} {_num(ratio):>7}x"
    )


def _load_rows(name: str, direct: LoadRun, gateway: LoadRun) -> list[str]:
    d, g = direct.wrk, gateway.wrk
    return [
        _row(f"{name} p50", d.p50_ms, g.p50_ms, "ms", added=True),
        _row(f"{name} p99", d.p99_ms, g.p99_ms, "ms", added=True),
        _row(f"{name} throughput", d.requests_per_s, g.requests_per_s, "req/s", added=False),
    ]


def render(
    loads: dict[str, dict[str, LoadRun]],
    streams: dict[str, dict[str, float]],
    goals: list[Target],
    ledger_lines: list[str],
    meta: dict[str, Any],
) -> str:
    header = f"  {'':<34} {'direct':>9} {'gateway':>9} {'':<6} {'added':>12} {'ratio':>8}"
    lines = [
        "",
        f"ChatGrid gateway vs the simulator called directly — {meta['cpus']} CPUs, "
        f"{meta['duration_s']:g} s per load run after {meta['warmup_s']:g} s warm-up",
        "",
        header,
    ]
    titles = {
        "chat_c1": "chat c=1",
        "chat_c32": "chat c=32",
        "shared_c32": "shared credits c=32",
        "embeddings_c32": "embeddings c=32",
    }
    for scenario, title in titles.items():
        runs = loads.get(scenario)
        if runs:
            lines += _load_rows(title, runs["direct"], runs["gateway"])
    if streams:
        d, g = streams["direct"], streams["gateway"]
        tokens = meta["stream_tokens"]
        lines += [
            _row("stream first byte p50", d["ttfb_p50_ms"], g["ttfb_p50_ms"], "ms", added=True),
            _row("stream first byte p99", d["ttfb_p99_ms"], g["ttfb_p99_ms"], "ms", added=True),
            _row(
                f"stream {tokens} tokens total p50",
                d["total_p50_ms"],
                g["total_p50_ms"],
                "ms",
                added=True,
            ),
            _row(
                f"stream {tokens} tokens total p99",
                d["total_p99_ms"],
                g["total_p99_ms"],
                "ms",
                added=True,
            ),
        ]
    lines += ["", "  CPU per request at c=32 (µs):"]
    for scenario in ("chat_c32", "shared_c32", "embeddings_c32"):
        runs = loads.get(scenario)
        if runs:
            through = runs["gateway"].cpu_us_per_request
            alone = runs["direct"].cpu_us_per_request["simulator"]
            lines.append(
                f"    {titles[scenario]:<24} gateway {through['gateway']:>6.0f}   simulator "
                f"{through['simulator']:>4.0f} (called directly: {alone:.0f})"
            )
    if "shared_c32" in loads:
        lines += ["", "  (shared credits' direct column is the simulator's chat c=32 baseline)"]
    noisy = sorted(
        {
            f"{run.scenario} {run.side} ({run.other_load_cpus:.2f})"
            for runs in loads.values()
            for run in runs.values()
            if run.other_load_cpus > NOISY_CPUS
        }
    )
    if noisy:
        lines += [
            "",
            f"  WARNING: other processes used more than {NOISY_CPUS} CPUs during: "
            + ", ".join(noisy),
            "  (this machine has 2 CPUs; treat those numbers as disturbed and re-run)",
        ]
    lines += ["", "Targets (informational):", *(goal.line() for goal in goals)]
    lines += ["", "Ledger:", *ledger_lines, ""]
    return "\n".join(lines)


def as_json(
    loads: dict[str, dict[str, LoadRun]],
    streams: dict[str, dict[str, float]],
    goals: list[Target],
    ledger: dict[str, Any],
    meta: dict[str, Any],
) -> dict[str, Any]:
    comparisons: dict[str, dict[str, float]] = {}
    for scenario, runs in loads.items():
        d, g = runs["direct"].wrk, runs["gateway"].wrk
        comparisons[scenario] = {
            "added_p50_ms": g.p50_ms - d.p50_ms,
            "added_p99_ms": g.p99_ms - d.p99_ms,
            "p50_ratio": g.p50_ms / d.p50_ms,
            "p99_ratio": g.p99_ms / d.p99_ms,
            "throughput_ratio": g.requests_per_s / d.requests_per_s,
        }
    if streams:
        d_s, g_s = streams["direct"], streams["gateway"]
        comparisons["stream"] = {f"added_{k}": g_s[k] - d_s[k] for k in d_s if k != "requests"}
    return {
        "meta": meta,
        "load": {
            scenario: {side: asdict(run) for side, run in runs.items()}
            for scenario, runs in loads.items()
        },
        "stream": streams,
        "comparison": comparisons,
        "targets": [{**asdict(goal), "met": goal.met} for goal in goals],
        "ledger": ledger,
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
