"""A deployment under test: the storage backend of the run, settings, and a real server.

``CHATGRID_TEST_BACKEND=postgresql`` runs everything that touches storage on
PostgreSQL (``CHATGRID_TEST_POSTGRES_URL``); every deployment gets a database
of its own. The fixtures that use these live in ``tests/conftest.py``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy import create_engine, text

from chatgrid.admin import keys, people
from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode, Role
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.settings import Settings
from chatgrid.store.engine import normalize_database_url
from chatgrid.store.migrate import upgrade_to_head
from chatgrid.store.tables import metadata
from tests.support.processes import ChatGridInstance, RunningProcess, instance_env

BACKEND = os.environ.get("CHATGRID_TEST_BACKEND", "sqlite")


REDIS_URL = os.environ.get("CHATGRID_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


PG_ADMIN_URL = os.environ.get(
    "CHATGRID_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


class DatabaseFactory:
    """Fresh PostgreSQL databases for this run (None on SQLite), dropped at the end.

    Every deployment gets a database of its own: instances in one database
    would share rows sealed under different master keys, which one real
    instance never has. The first call migrates an empty database to head
    (the run fails if the migrations do); every database after is a copy of
    it (``CREATE DATABASE … TEMPLATE``), so a test pays 50 ms, not a full
    migration, and what it gets is exactly what migrating gives.
    """

    def __init__(self) -> None:
        self.created: list[str] = []
        self._base = PG_ADMIN_URL.rsplit("/", 1)[0]
        self._template: str | None = None

    def __call__(self) -> str | None:
        if BACKEND != "postgresql":
            return None
        if self._template is None:
            self._template = self._create(template=None)
            engine = create_engine(normalize_database_url(f"{self._base}/{self._template}"))
            try:
                upgrade_to_head(engine)
            finally:
                engine.dispose()  # a template takes no copies while anyone is connected
        return f"{self._base}/{self._create(template=self._template)}"

    def _create(self, template: str | None) -> str:
        name = f"chatgrid_test_{secrets.token_hex(6)}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        try:
            admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:
            pytest.exit(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}", returncode=3)
        with admin:
            admin.execute(statement)
        self.created.append(name)
        return name

    def drop_all(self) -> None:
        if not self.created:
            return
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            for name in reversed(self.created):  # the template last: nothing copies it then
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


def settings_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {
        "CHATGRID_DATA_DIR": str(data_dir),
        "CHATGRID_ALLOW_PRIVATE_UPSTREAMS": "true",
        "CHATGRID_LOG_LEVEL": "info",
        "CHATGRID_DRAIN_TIMEOUT_SECONDS": "30",
    }
    if database_url:
        env["CHATGRID_DATABASE_URL"] = database_url
    return env


def make_settings(data_dir: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        allow_private_upstreams=True,
        drain_timeout_seconds=30,
    )


@dataclass
class OrgHandle:
    id: str
    name: str
    token: str
    member_id: str
    key: str | None


@dataclass
class Deployment:
    """A running ChatGrid, an admin context on its database, and the simulator."""

    instance: ChatGridInstance
    context: AppContext
    simulator: RunningProcess

    @property
    def v1(self) -> str:
        return f"{self.instance.base_url}/v1"

    def new_org(self, mode: BillingMode = BillingMode.BYOK, *, key: str | None = None) -> OrgHandle:
        """An org with one member and a token; BYOK orgs get their own key connected."""
        name = f"org-{secrets.token_hex(4)}"
        org = people.create_org(self.context, name, mode)
        email = f"alice-{secrets.token_hex(3)}@example.com"
        member = people.add_member(self.context, org.id, email, Role.OWNER)
        _, token = people.create_token(self.context, org.id, email)
        if mode is BillingMode.BYOK:
            key = key or f"sk-byok-{secrets.token_hex(12)}"
            self.connect(org.id, key)
        return OrgHandle(org.id, name, token, member.id, key)

    def connect(self, org_id: str, key: str, **config: object) -> None:
        upstream = UpstreamConfig.create(
            Provider(str(config.pop("provider", "openai"))),
            base_url=str(config.pop("base_url", f"{self.simulator.base_url}/v1")),
            **config,  # type: ignore[arg-type]
        )
        import asyncio

        asyncio.run(keys.set_credential(self.context, org_id, upstream, key, actor="test"))

    def simulator_records(self) -> list[dict[str, object]]:
        return httpx.get(f"{self.simulator.base_url}/_sim/requests").json()["data"]  # type: ignore[no-any-return]


def start_deployment(
    tmp_path: Path,
    database_url: str | None,
    simulator: RunningProcess,
    *,
    redis_prefix: str | None = None,
) -> Iterator[Deployment]:
    """A server (and an admin context on its database); with Redis when a prefix is given."""
    if redis_prefix is None:
        yield from deployment_with(tmp_path, database_url, simulator, {})
        return
    yield from deployment_with(
        tmp_path,
        database_url,
        simulator,
        {"CHATGRID_REDIS_URL": REDIS_URL, "CHATGRID_REDIS_PREFIX": redis_prefix},
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
    )


def deployment_with(
    tmp_path: Path,
    database_url: str | None,
    simulator: RunningProcess,
    env: dict[str, str],
    **settings: object,
) -> Iterator[Deployment]:
    """``start_deployment`` with extra server environment (and the same in the admin context)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    server_env = instance_env(settings_env(data_dir, database_url))
    server_env.update(env)
    ctx = AppContext.open(make_settings(data_dir, database_url).model_copy(update=settings))
    upgrade_to_head(ctx.engine)
    ctx.prices.seed_defaults()
    instance = ChatGridInstance(env=server_env, data_dir=data_dir)
    instance.start()
    try:
        yield Deployment(instance, ctx, simulator)
    finally:
        instance.stop()
        ctx.close()


def database_text(deployment: Deployment) -> bytes:
    """Everything the database holds: the raw SQLite files, or every PostgreSQL row as text."""
    engine = deployment.context.engine
    if engine.dialect.name == "sqlite":
        data_dir = deployment.instance.data_dir
        return b"".join(p.read_bytes() for p in data_dir.glob("chatgrid.db*"))
    dump: list[str] = []
    with engine.connect() as conn:
        for table in [*metadata.sorted_tables]:
            rows = conn.execute(text(f"SELECT t::text FROM {table.name} t")).scalars()  # noqa: S608
            dump.extend(rows)
    return "\n".join(dump).encode()


def add_pool_keys(deployment: Deployment, count: int) -> list[str]:
    config = UpstreamConfig.create(Provider.OPENAI, base_url=f"{deployment.simulator.base_url}/v1")
    names = []
    for n in range(count):
        key = f"sk-pool-{n}-failover-abcdef"
        asyncio.run(keys.add_pool_key(deployment.context, f"pool-{n}", config, key))
        names.append(key)
    return names
