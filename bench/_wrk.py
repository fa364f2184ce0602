"""Drive HTTP load with wrk and read back what it measured.

A generated Lua script sets the method, body and headers, and its ``done``
hook prints one ``BENCH key=value ...`` line with exact counters and
microsecond percentiles (wrk's own text rounds to two decimals). wrk's
``Non-2xx or 3xx responses`` and ``Socket errors`` lines are read too, so a
run that was answered with errors can never pass as a fast one.
"""

from __future__ import annotations

import re
import resource
import subprocess
from dataclasses import dataclass
from pathlib import Path

from _procs import BenchError

_DONE_HOOK = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d "
      .. "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.1f\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
"""
_BENCH_LINE = re.compile(r"^BENCH (.*)$", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s*(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors:.*")
_RPS = re.compile(r"Requests/sec:\s*([\d.]+)")


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    mean_ms: float
    non_2xx: int
    socket_errors: int
    wrk_cpu_s: float

    def check(self, label: str) -> None:
        """Fail loudly if any response was not a 2xx or any socket failed."""
        if self.non_2xx or self.socket_errors:
            raise BenchError(
                f"{label}: {self.non_2xx} non-2xx responses and {self.socket_errors} "
                f"socket errors out of {self.requests} requests"
            )
        if self.requests == 0:
            raise BenchError(f"{label}: wrk completed no requests")


def lua_script(body: bytes, headers: dict[str, str]) -> str:
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body.decode())}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n" + _DONE_HOOK


def _lua_string(value: str) -> str:
    """A double-quoted Lua string; quotes, backslashes and controls as decimal escapes."""
    escaped = "".join(f"\\{ord(ch):03d}" if ord(ch) < 32 or ch in '\\"' else ch for ch in value)
    return f'"{escaped}"'


def parse_output(text: str, wrk_cpu_s: float = 0.0) -> WrkResult:
    found = _BENCH_LINE.search(text)
    if found is None:
        raise BenchError(f"wrk printed no BENCH line:\n{text}")
    values = {k: float(v) for k, v in (pair.split("=") for pair in found.group(1).split())}
    non_2xx = _NON_2XX.search(text)
    duration_s = values["duration_us"] / 1e6
    requests = int(values["requests"])
    socket_errors = sum(int(values[k]) for k in ("connect", "read", "write", "timeout"))
    if _SOCKET_ERRORS.search(text) and not socket_errors:
        raise BenchError(f"wrk reported socket errors the hook did not count:\n{text}")
    return WrkResult(
        requests=requests,
        duration_s=duration_s,
        requests_per_s=requests / duration_s if duration_s else 0.0,
        p50_ms=values["p50_us"] / 1000,
        p90_ms=values["p90_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        p999_ms=values["p999_us"] / 1000,
        max_ms=values["max_us"] / 1000,
        mean_ms=values["mean_us"] / 1000,
        non_2xx=max(int(values["status"]), int(non_2xx.group(1)) if non_2xx else 0),
        socket_errors=socket_errors,
        wrk_cpu_s=wrk_cpu_s,
    )


def run_wrk(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    connections: int,
    duration_s: float,
    script_path: Path,
) -> WrkResult:
    script_path.write_text(lua_script(body, headers))
    argv = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        "--latency",
        "-s",
        str(script_path),
        url,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or done.stderr.strip():
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = parse_output(done.stdout, wrk_cpu_s=cpu)
    rps_text = _RPS.search(done.stdout)
    if rps_text and abs(float(rps_text.group(1)) - result.requests_per_s) > 1:
        raise BenchError(f"wrk's Requests/sec disagrees with its counters:\n{done.stdout}")
    return result
