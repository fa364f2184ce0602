"""The system under test: a simulator, a ChatGrid on fresh SQLite, and its orgs.

Provisioning goes through the ``chatgrid`` CLI, as an operator would. The
simulator sees three keys: the BYOK org's, the pool's, and the one the
benchmark uses to call it directly, so its request log tells which upstream
calls came through the gateway.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from _procs import (
    Service,
    free_port,
    http_json,
    run_cli,
    start_service,
    venv_bin,
    wait_healthy,
)

BYOK_KEY = "sk-bench-abcdefgh1234"
POOL_KEY = "sk-pool-abcdefgh1234"
DIRECT_KEY = "sk-direct-abcdefgh1234"
ANTHROPIC_KEY = "sk-ant-bench-abcdefgh1234"  # the BYOK org's Anthropic key (translation.py)
BYOK_ORG = "acme"
SHARED_ORG = "pooled"
_ORG_OF_KEY = {BYOK_KEY: BYOK_ORG, ANTHROPIC_KEY: BYOK_ORG, POOL_KEY: SHARED_ORG}


@dataclass
class Stack:
    simulator: Service
    gateway: Service
    data_dir: Path
    byok_token: str
    shared_token: str

    @property
    def services(self) -> tuple[Service, Service]:
        return self.gateway, self.simulator

    def clear_upstream_log(self) -> None:
        http_json("DELETE", self.simulator, "/_sim/requests")

    def upstream_calls_by_org(self, settle: float = 0.5) -> Counter[str]:
        """Gateway calls the simulator received since the last clear, then clear.

        ``settle`` lets calls whose client gave up when wrk stopped reach the
        upstream first, so the count and the ledger describe the same calls.
        """
        time.sleep(settle)
        records = http_json("GET", self.simulator, "/_sim/requests")["data"]
        self.clear_upstream_log()
        return Counter(
            _ORG_OF_KEY[record["api_key"]] for record in records if record["api_key"] in _ORG_OF_KEY
        )

    def ledger_rows_by_org(self) -> dict[str, Counter[str]]:
        """Ledger rows per org name and outcome, read straight from the SQLite file."""
        uri = f"file:{self.data_dir / 'chatgrid.db'}?mode=ro"
        with sqlite3.connect(uri, uri=True) as connection:
            rows = connection.execute(
                "SELECT o.name, l.outcome, count(*) FROM ledger_entries AS l "
                "JOIN orgs AS o ON o.id = l.org_id GROUP BY o.name, l.outcome"
            ).fetchall()
        result: dict[str, Counter[str]] = {}
        for org, outcome, count in rows:
            result.setdefault(org, Counter())[outcome] = count
        return result


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATGRID_")}
    env["CHATGRID_DATA_DIR"] = str(data_dir)
    env["CHATGRID_ALLOW_PRIVATE_UPSTREAMS"] = "true"
    env["CHATGRID_LOG_LEVEL"] = "warning"
    return env


def _provision(env: dict[str, str], upstream: str) -> tuple[str, str]:
    """A BYOK org with its own key and a shared-credit org on a pooled key; their tokens."""
    run_cli(["org", "create", BYOK_ORG, "--mode", "byok"], env)
    run_cli(["member", "add", BYOK_ORG, "a@x.com", "--role", "owner"], env)
    run_cli(["credential", "set", BYOK_ORG, "--base-url", upstream], env, stdin=BYOK_KEY)
    byok = run_cli(["token", "create", BYOK_ORG, "a@x.com"], env)["token"]
    run_cli(["org", "create", SHARED_ORG, "--mode", "shared"], env)
    run_cli(["member", "add", SHARED_ORG, "b@x.com", "--role", "owner"], env)
    run_cli(["pool", "add", "pool1", "--base-url", upstream], env, stdin=POOL_KEY)
    # A hard-stop plan with room for the whole run: every call takes the full
    # metering path (worst-case reservation, then settlement) without running dry.
    run_cli(
        [
            "plan",
            "create",
            "bench",
            "--seat-price",
            "5",
            "--markup-bps",
            "2000",
            "--allowance-per-seat",
            "1000000",
            "--hard-stop",
        ],
        env,
    )
    run_cli(["plan", "assign", SHARED_ORG, "bench"], env)
    shared = run_cli(["token", "create", SHARED_ORG, "b@x.com"], env)["token"]
    return byok, shared


def start_stack(stack: ExitStack, data_dir: Path) -> Stack:
    """Start both servers (each stopped when ``stack`` unwinds) and provision the orgs."""
    env = _env(data_dir)
    sim_port, gateway_port = free_port(), free_port()
    simulator = start_service(
        "simulator",
        [venv_bin("chatgrid"), "simulator", "--port", str(sim_port)],
        env,
        sim_port,
        data_dir,
    )
    stack.callback(simulator.stop)
    wait_healthy(simulator, "/_sim/health")
    byok_token, shared_token = _provision(env, simulator.base_url + "/v1")
    gateway = start_service(
        "gateway",
        [venv_bin("chatgrid"), "serve", "--port", str(gateway_port)],
        env,
        gateway_port,
        data_dir,
    )
    stack.callback(gateway.stop)  # callbacks unwind last-in first-out: gateway stops first
    wait_healthy(gateway, "/healthz")
    return Stack(simulator, gateway, data_dir, byok_token, shared_token)
