"""``chatgrid serve --workers 2``: two processes on one port keep one server's promises.

Each call is made on a fresh connection, and the worker that accepted it is
read from ``/proc`` (which worker holds the socket with the client's port),
so the test knows both workers served before the revocation and both
refused after it.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
from pathlib import Path

import httpx

from chatgrid.context import AppContext
from chatgrid.store.migrate import upgrade_to_head
from tests.support.deployment import REDIS_URL, Deployment, make_settings, settings_env
from tests.support.ledger_checks import assert_ledger_matches_upstream
from tests.support.process_groups import (
    children_of,
    group_members,
    serving_in_own_group,
    wait_for_exit,
    wait_until_gone,
)
from tests.support.processes import ChatGridInstance, RunningProcess, instance_env
from tests.support.waiting import wait_for

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
MAX_TRIES = 200


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def _connection_inode(server_port: int, client_port: int) -> int | None:
    """The inode of the server's end of one loopback TCP connection."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            return int(fields[9])
    return None


def _call(base_url: str, token: str, workers: list[int]) -> tuple[int, int | None]:
    """One chat call on a connection of its own: its status and the worker that answered."""
    server_port = int(base_url.rsplit(":", 1)[1])
    with httpx.Client(timeout=60) as http:
        response = http.post(
            f"{base_url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {token}"},
            json=CHAT,
        )
        client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
        inode = _connection_inode(server_port, client_port)  # still open: kept alive
        worker = next((w for w in workers if inode in _socket_inodes(w)), None)
    return response.status_code, worker


def _worker_pids(supervisor: int) -> list[int]:
    return [
        p.pid
        for p in children_of(supervisor)
        if "spawn_main" in p.command and "resource_tracker" not in p.command
    ]


def test_a_token_revoked_through_the_cli_is_refused_by_both_workers_at_once(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    prefix = f"cgworkers-{secrets.token_hex(4)}"
    env = instance_env(settings_env(data_dir, postgres_database))
    env.update(CHATGRID_REDIS_URL=REDIS_URL, CHATGRID_REDIS_PREFIX=prefix)
    settings = make_settings(data_dir, postgres_database).model_copy(
        update={"redis_url": REDIS_URL, "redis_prefix": prefix}
    )
    context = AppContext.open(settings)
    upgrade_to_head(context.engine)
    context.prices.seed_defaults()
    with serving_in_own_group(env, tmp_path, "--workers", "2") as server:
        instance = ChatGridInstance(env, data_dir, server)
        deployment = Deployment(instance, context, simulator)
        org = deployment.new_org()
        supervisor = server.process.pid
        wait_for(lambda: len(_worker_pids(supervisor)) == 2, timeout=180)
        workers = _worker_pids(supervisor)

        served: dict[int, int] = {}
        ok_calls = 0
        for _ in range(MAX_TRIES):
            status, worker = _call(server.base_url, org.token, workers)
            if status == 503:  # the other worker is still starting up
                continue
            assert status == 200
            ok_calls += 1
            if worker is not None:
                served[worker] = served.get(worker, 0) + 1
            if len(served) == 2 and ok_calls >= 10:
                break
        assert len(served) == 2, f"only {served} answered"

        listed = instance.cli("token", "list", org.id)
        assert listed.returncode == 0, listed.stderr
        (token_id,) = [t["id"] for t in json.loads(listed.stdout)]
        revoked = instance.cli("token", "revoke", org.id, token_id)
        assert revoked.returncode == 0, revoked.stderr

        refused: dict[int, int] = {}
        for calls in range(1, MAX_TRIES + 1):
            status, worker = _call(server.base_url, org.token, workers)
            assert status == 401, f"call {calls} after the revocation got {status}"
            if worker is not None:
                refused[worker] = refused.get(worker, 0) + 1
            if len(refused) == 2 and calls >= 40:
                break
        assert len(refused) == 2, f"only {refused} were asked after the revocation"

        entries = assert_ledger_matches_upstream(deployment, org.id)
        assert len(entries) == ok_calls
        assert len({e["call_id"] for e in entries}) == ok_calls
        assert {e["outcome"] for e in entries} == {"ok"}

        members = {p.pid for p in group_members(supervisor)}
        os.killpg(supervisor, signal.SIGTERM)
        assert wait_for_exit(server.process, 240) == 0
        assert not wait_until_gone(members, 30)
    context.close()


def test_workers_whose_supervisor_was_killed_stop_by_themselves(
    tmp_path: Path, postgres_database: str | None
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = instance_env(settings_env(data_dir, postgres_database))
    env.update(CHATGRID_REDIS_URL=REDIS_URL, CHATGRID_REDIS_PREFIX=f"cgw-{secrets.token_hex(4)}")
    with serving_in_own_group(env, tmp_path, "--workers", "2") as server:
        supervisor = server.process.pid
        wait_for(lambda: len(_worker_pids(supervisor)) == 2, timeout=180)
        members = {p.pid for p in group_members(supervisor)} - {supervisor}
        server.process.kill()  # SIGKILL to the supervisor alone: its workers are orphans
        server.process.wait()
        assert not wait_until_gone(members, 240), "workers outlived their supervisor"
