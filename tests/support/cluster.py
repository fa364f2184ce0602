"""Several ``chatgrid serve`` replicas on PostgreSQL + Redis, each with its own data dir,
and an admin CLI with another: they share no files, so only Redis can tell them about a
change (``running_cluster`` starts and stops them for a fixture or a test)."""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from chatgrid.admin import keys
from chatgrid.context import AppContext
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.settings import Settings
from chatgrid.store.migrate import upgrade_to_head
from tests.support.deployment import settings_env
from tests.support.processes import ChatGridInstance, RunningProcess, instance_env

REDIS_URL = "redis://127.0.0.1:6379/0"


CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


@dataclass
class Cluster:
    replicas: list[ChatGridInstance]
    admin: ChatGridInstance  # a CLI with its own data dir, like an admin on another machine
    context: AppContext
    simulator: RunningProcess

    def stop(self) -> None:
        for replica in self.replicas:
            replica.stop()
        self.context.close()

    def connect_simulator(self, org_id: str, key: str) -> None:
        """Give a BYOK org an OpenAI key on the simulator (the replicas relay to it)."""
        config = UpstreamConfig.create(Provider.OPENAI, base_url=f"{self.simulator.base_url}/v1")
        asyncio.run(keys.set_credential(self.context, org_id, config, key))


def replica_env(
    data_dir: Path,
    database_url: str,
    redis_url: str,
    prefix: str,
    master: str,
    lease: float | None = None,
) -> dict[str, str]:
    env = instance_env(settings_env(data_dir, database_url))
    env.update(
        CHATGRID_REDIS_URL=redis_url,
        CHATGRID_REDIS_PREFIX=prefix,
        CHATGRID_MASTER_KEY=master,
    )
    if lease is not None:
        env["CHATGRID_SYNC_LEASE_SECONDS"] = str(lease)
    return env


def start_cluster(
    tmp_path: Path,
    database_url: str,
    simulator: RunningProcess,
    redis_url: str,
    count: int,
    *,
    lease: float | None = None,
    start_timeout: float = 30.0,
) -> Cluster:
    """``count`` replicas and an admin, each with a data dir of its own (no shared marker)."""
    prefix = f"cgtest-{secrets.token_hex(4)}"
    master = "1:" + base64.b64encode(secrets.token_bytes(32)).decode()
    replicas = []
    for index in range(count):
        data_dir = tmp_path / f"replica-{index}"
        data_dir.mkdir()
        instance = ChatGridInstance(
            env=replica_env(data_dir, database_url, redis_url, prefix, master, lease),
            data_dir=data_dir,
        )
        instance.start(timeout=start_timeout)
        replicas.append(instance)
    admin_dir = tmp_path / "admin"
    admin_dir.mkdir()
    admin = ChatGridInstance(
        env=replica_env(admin_dir, database_url, redis_url, prefix, master, lease),
        data_dir=admin_dir,
    )
    settings = Settings(
        data_dir=admin_dir,
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=prefix,
        master_key=master,
        allow_private_upstreams=True,
    )
    if lease is not None:
        settings = settings.model_copy(update={"sync_lease_seconds": lease})
    context = AppContext.open(settings)
    upgrade_to_head(context.engine)
    return Cluster(replicas, admin, context, simulator)


@contextmanager
def running_cluster(
    tmp_path: Path,
    database_url: str | None,
    simulator: RunningProcess,
    *,
    count: int,
    redis_url: str = REDIS_URL,
    lease: float | None = None,
    start_timeout: float = 30.0,
) -> Iterator[Cluster]:
    """``start_cluster`` on PostgreSQL (replicas share it), stopped whatever the test did."""
    assert database_url is not None, "replicas need PostgreSQL"
    cluster = start_cluster(
        tmp_path,
        database_url,
        simulator,
        redis_url,
        count,
        lease=lease,
        start_timeout=start_timeout,
    )
    try:
        yield cluster
    finally:
        cluster.stop()
