"""Child processes of a benchmark run: servers in their own session, always stopped.

Servers run in a new session so a Ctrl-C in the terminal reaches only the
benchmark, which then stops them in order (gateway first, so it never sees
its upstream vanish mid-request). Every stop is by the child's own pid.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used since boot (not idle, not iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / _CLOCK_TICKS


class BenchError(Exception):
    """Something the benchmark needs did not work; the run stops and exits 1."""


def venv_bin(name: str) -> str:
    """A console script installed next to the interpreter running the benchmark."""
    return str(Path(sys.executable).parent / name)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU of the process (all its threads) so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        # After the command name: state is field 3, utime 14, stime 15 (1-based).
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise BenchError(
                f"{self.name} exited with code {self.process.returncode}:\n{self.log_tail()}"
            )

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (uvicorn shuts down gracefully), then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_service(
    name: str, argv: Sequence[str], env: dict[str, str], port: int, log_dir: Path
) -> Service:
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Service(name, process, f"http://127.0.0.1:{port}", log_path)


def _request(base_url: str, method: str, path: str, timeout: float) -> tuple[int, bytes]:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port, timeout=timeout
    )
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def http_json(method: str, service: Service, path: str, timeout: float = 30.0) -> Any:
    status, body = _request(service.base_url, method, path, timeout)
    if status != 200:
        raise BenchError(f"{method} {service.name}{path} answered {status}: {body[:300]!r}")
    return json.loads(body)


def _answers_200(service: Service, path: str) -> bool:
    try:
        return _request(service.base_url, "GET", path, timeout=2)[0] == 200
    except OSError:
        return False  # not listening yet


def wait_healthy(service: Service, path: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not _answers_200(service, path):
        service.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(
                f"{service.name} not healthy after {timeout:.0f} s:\n{service.log_tail()}"
            )
        time.sleep(0.1)


def run_cli(args: Sequence[str], env: dict[str, str], stdin: str | None = None) -> Any:
    """Run one ``chatgrid`` admin command and return the JSON it printed."""
    argv = [venv_bin("chatgrid"), *args]
    done = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"`chatgrid {' '.join(args)}` failed ({done.returncode}): {done.stderr}")
    return json.loads(done.stdout)
