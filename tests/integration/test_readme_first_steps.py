"""README's "First steps", run as written: the commands are read from README.md.

Each shell line's comment says which terminal it belongs to (``# terminal 1:``);
lines without one continue the terminal above. Terminals 1 and 2 (``make run``,
``make simulator``) keep running; the last one runs as one script, then the
Python snippet is run with the token it printed. Only the ports (8000, 9100)
are swapped for free ones, so a developer's own ChatGrid cannot be hit, and
the data dir is a fresh one.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.processes import free_port

pytestmark = pytest.mark.child_processes

ROOT = Path(__file__).resolve().parents[2]
_COMMENT = re.compile(r"^(?P<command>.*?)\s+#\s*(?P<comment>.*)$")
_TERMINAL = re.compile(r"terminal (\d+)")


@dataclass(frozen=True)
class FirstSteps:
    terminals: list[list[str]]
    python: str


def first_steps(readme: str) -> FirstSteps:
    section = readme.split("## First steps", 1)[1].split("\n## ", 1)[0]
    shell = re.search(r"```sh\n(.*?)```", section, re.S)
    python = re.search(r"```python\n(.*?)```", section, re.S)
    assert shell is not None and python is not None, "README's First steps lost a code block"
    terminals: list[list[str]] = []
    for line in shell.group(1).splitlines():
        found = _COMMENT.match(line)
        command = found["command"].strip() if found else line.strip()
        terminal = _TERMINAL.search(found["comment"]) if found else None
        if terminal is not None:
            assert int(terminal.group(1)) == len(terminals) + 1, line
            terminals.append([])
        terminals[-1].append(command)
    return FirstSteps(terminals, python.group(1))


@dataclass
class Ports:
    chatgrid: int
    simulator: int

    def apply(self, text: str) -> str:
        return text.replace(":8000", f":{self.chatgrid}").replace(":9100", f":{self.simulator}")


def wait_for(
    check: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what}: exited early\n{log.read_text(errors='replace')}")
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not up in time\n{log.read_text(errors='replace')}")


def healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def fresh_env(tmp_path: Path) -> tuple[dict[str, str], Ports]:
    """This environment without any CHATGRID_ setting, a fresh data dir, free ports."""
    ports = Ports(free_port(), free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGRID_")}
    env.update(
        CHATGRID_DATA_DIR=str(tmp_path / "data"),
        PORT=str(ports.chatgrid),
        SIM_PORT=str(ports.simulator),
    )
    return env, ports


def test_the_readme_first_steps_work_as_written(tmp_path: Path) -> None:
    env, ports = fresh_env(tmp_path)
    steps = first_steps((ROOT / "README.md").read_text())
    assert len(steps.terminals) == 3, steps.terminals
    started: list[subprocess.Popen[bytes]] = []

    def start(number: int) -> tuple[subprocess.Popen[bytes], Path]:
        (command,) = steps.terminals[number - 1]
        log = tmp_path / f"terminal-{number}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["bash", "-c", ports.apply(command)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: make and its child stop together
            )
        started.append(process)
        return process, log

    try:
        server, server_log = start(1)
        base = f"http://127.0.0.1:{ports.chatgrid}"
        wait_for(lambda: healthy(f"{base}/healthz"), "make run", server, server_log)
        hints = server_log.read_text()
        assert "make simulator" in hints and "export CHATGRID_ALLOW_PRIVATE_UPSTREAMS=true" in hints
        assert f"--base-url http://127.0.0.1:{ports.simulator}/v1" in hints
        assert "start it as" not in hints  # the setting reached the server: no advice to restart

        simulator, simulator_log = start(2)
        listening = f"listening on http://127.0.0.1:{ports.simulator}/v1"
        wait_for(
            lambda: listening in simulator_log.read_text(), "simulator", simulator, simulator_log
        )

        script = "set -e\n" + "\n".join(ports.apply(c) for c in steps.terminals[2])
        shell = subprocess.run(
            ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
        assert shell.returncode == 0, shell.stdout + shell.stderr
        token = re.search(r"cgk_[A-Za-z0-9_\-]+", shell.stdout)
        assert token is not None, shell.stdout

        snippet = ports.apply(steps.python).replace("cgk_...", token.group(0))
        answered = subprocess.run(
            [sys.executable, "-c", snippet],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert answered.returncode == 0, answered.stderr
        usage = subprocess.run(
            [str(ROOT / ".venv/bin/chatgrid"), "usage", "acme"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert usage.returncode == 0 and '"gpt-4o-mini"' in usage.stdout, usage.stdout
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def test_without_the_setting_make_run_says_how_to_use_the_simulator(tmp_path: Path) -> None:
    """The hints `make run` prints without the setting (read with `make -n`, nothing started)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGRID_")}
    dry = subprocess.run(
        ["make", "-s", "-n", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert dry.returncode == 0, dry.stderr
    recipe = dry.stdout
    assert "CHATGRID_ALLOW_PRIVATE_UPSTREAMS=true make run" in recipe
    assert "make simulator" in recipe
