"""``chatgrid serve`` in a process group of its own, as systemd and Kubernetes run it.

Its group can then be sent SIGTERM as a whole (``os.killpg``) without
reaching the test runner, and what is left of it afterwards read from
``/proc``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import RunningProcess, chatgrid_command, free_port, wait_until_up

START_TIMEOUT = 180.0
"""Generous: several workers start at once on a machine other tests load too."""


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    parent: int
    group: int
    state: str
    command: str


def processes() -> list[ProcessInfo]:
    """Every live process on the machine (zombies left out: they hold nothing)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it ended while we looked
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        state, parent, group = fields[0], int(fields[1]), int(fields[2])
        if state != "Z":
            found.append(ProcessInfo(int(entry.name), parent, group, state, command))
    return found


def group_members(group: int) -> list[ProcessInfo]:
    return [p for p in processes() if p.group == group]


def children_of(pid: int) -> list[ProcessInfo]:
    return [p for p in processes() if p.parent == pid]


def extraction_children(server_pids: set[int]) -> list[ProcessInfo]:
    """The spawned children of these server processes (not multiprocessing's resource tracker)."""
    return [
        p
        for p in processes()
        if p.parent in server_pids
        and "spawn_main" in p.command
        and "resource_tracker" not in p.command
    ]


@contextmanager
def serving_in_own_group(
    env: dict[str, str], log_dir: Path, *extra: str
) -> Iterator[RunningProcess]:
    """``chatgrid serve`` as the leader of a new process group; SIGKILLed whole at the end."""
    port = free_port()
    log_path = log_dir / f"serve-group-{port}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            chatgrid_command("serve", "--port", str(port), *extra),
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,
        )
    server = RunningProcess(process, f"http://127.0.0.1:{port}", log_path)
    try:
        wait_until_up(f"{server.base_url}/healthz", process, timeout=START_TIMEOUT)
        yield server
    finally:
        for member in group_members(process.pid):
            with suppress(ProcessLookupError):
                os.kill(member.pid, signal.SIGKILL)
        process.wait()


def wait_for_exit(process: subprocess.Popen[bytes], timeout: float) -> int | None:
    """The exit code, or None if it was still running after ``timeout`` seconds."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def wait_until_gone(pids: set[int], timeout: float) -> set[int]:
    """Those of ``pids`` still alive after waiting up to ``timeout`` seconds for them to end."""
    deadline = time.monotonic() + timeout
    while True:
        alive = {p.pid for p in processes()} & pids
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)
