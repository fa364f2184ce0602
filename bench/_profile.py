"""Where the gateway's time goes: py-spy on the running server, summed by owner.

Optional (``--py-spy``; py-spy is not a ChatGrid dependency: ``pip install
py-spy``). Samples are taken only while a thread holds the GIL, so idle pool
threads and the loop's wait in epoll do not count, and each sample is
charged twice: to the innermost ChatGrid function on its stack (which call
in our code caused the work, whoever's code ran it) and to the package of
its innermost frame (whose code ran).
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from _procs import BenchError, venv_bin

_RATE = 200
_PACKAGES = ("chatgrid", "aiohttp", "uvicorn", "sqlalchemy", "sqlite3", "asyncio", "multidict")


def py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which(venv_bin("py-spy"))
    if found is None:
        raise BenchError("--py-spy needs py-spy: .venv/bin/pip install py-spy")
    return found


def start_recording(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    argv = [py_spy(), "record", "--pid", str(pid), "--duration", str(max(1, round(seconds)))]
    argv += ["--rate", str(_RATE), "--gil", "--nolineno", "--format", "raw", "-o", str(output)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish_recording(process: subprocess.Popen[bytes]) -> None:
    _, stderr = process.communicate(timeout=120)
    if process.returncode != 0:
        raise BenchError(f"py-spy failed ({process.returncode}): {stderr.decode(errors='replace')}")


def _package(frame: str) -> str:
    """``func (chatgrid/gateway/app.py)`` -> ``chatgrid``; uvloop's C code shows as its caller."""
    location = frame.rpartition("(")[2]
    for package in _PACKAGES:
        if location.startswith(package):
            return package
    if frame.startswith("Runner.run ") or frame.startswith("asyncio_run "):
        return "event loop (uvloop, C)"
    return location.split("/", 1)[0].rstrip(")") or "?"


@dataclass(frozen=True)
class Profile:
    samples: int
    gil_busy: float  # share of the recording during which some thread held the GIL
    by_call_site: dict[str, float]
    by_package: dict[str, float]

    def render(self, raw: Path) -> list[str]:
        return [
            "",
            f"Gateway profile under chat c=32 (py-spy; GIL held {self.gil_busy:.0%} of the time; "
            f"stacks in {raw}):",
            "  by innermost ChatGrid function on the stack:",
            *(f"    {share:6.1%}  {name}" for name, share in self.by_call_site.items()),
            "  by package whose code was running:",
            *(f"    {share:6.1%}  {name}" for name, share in self.by_package.items()),
        ]


def summarize(raw: Path, seconds: float, top: int = 12) -> Profile:
    """Shares of GIL-holding samples, by ChatGrid call site and by package."""
    by_call_site: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        ours = [f for f in frames if "(chatgrid/" in f]
        by_call_site[ours[-1] if ours else "(outside chatgrid: server and loop)"] += count
        by_package[_package(frames[-1])] += count
    if not total:
        raise BenchError(f"py-spy recorded no samples in {raw}")
    return Profile(
        samples=total,
        gil_busy=total / (_RATE * seconds),
        by_call_site={k: v / total for k, v in by_call_site.most_common(top)},
        by_package={k: v / total for k, v in by_package.most_common(top)},
    )
