"""Real processes for integration tests: the simulator and ``chatgrid serve``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} was up")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up within {timeout}s")


def chatgrid_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "chatgrid", *args]


@dataclass
class RunningProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def stop(self, *, kill: bool = False) -> None:
        if self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_simulator(log_dir: Path) -> RunningProcess:
    port = free_port()
    log_path = log_dir / f"simulator-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            chatgrid_command("simulator", "--port", str(port)), stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/_sim/health", process)
    return RunningProcess(process, base, log_path)


@dataclass
class ChatGridInstance:
    """One ``chatgrid serve`` process with its own data dir (and database)."""

    env: dict[str, str]
    data_dir: Path
    server: RunningProcess | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return self.server.base_url

    def start(self, *, port: int | None = None, timeout: float = 30.0) -> None:
        """Start on ``port`` (default: a free one); ``timeout`` to come up."""
        port = free_port() if port is None else port
        log_path = self.data_dir / f"serve-{port}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                chatgrid_command("serve", "--port", str(port)),
                stdout=log,
                stderr=log,
                env=self.env,
            )
        base = f"http://127.0.0.1:{port}"
        self.server = RunningProcess(process, base, log_path)
        wait_until_up(f"{base}/healthz", process, timeout=timeout)

    def stop(self, *, kill: bool = False) -> None:
        if self.server is not None:
            self.server.stop(kill=kill)

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            chatgrid_command(*args),
            input=input,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
        )


def instance_env(settings_env: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGRID_")}
    env.update(settings_env)
    return env
