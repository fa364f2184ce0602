"""Shared fixtures: a database per run (SQLite or PostgreSQL), the simulator,
real ``chatgrid serve`` processes, and orgs with tokens ready to call.

``CHATGRID_TEST_BACKEND=postgresql`` runs everything that touches storage on
PostgreSQL (``CHATGRID_TEST_POSTGRES_URL``); the run gets a database of its
own, dropped at the end. An unreachable server fails the run, never skips.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from chatgrid.admin import keys, people
from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode, Role
from chatgrid.providers.base import Provider, UpstreamConfig
from chatgrid.settings import Settings
from chatgrid.store.migrate import upgrade_to_head
from tests.support.processes import (
    ChatGridInstance,
    RunningProcess,
    instance_env,
    start_simulator,
)

BACKEND = os.environ.get("CHATGRID_TEST_BACKEND", "sqlite")
REDIS_URL = os.environ.get("CHATGRID_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_ADMIN_URL = os.environ.get(
    "CHATGRID_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def pytest_report_header() -> str:
    return f"chatgrid storage backend: {BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of several replicas need PostgreSQL: on the SQLite pass they are deselected."""
    if BACKEND == "postgresql":
        return
    deselected = [item for item in items if item.get_closest_marker("postgresql_only")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("postgresql_only")]


class DatabaseFactory:
    """Fresh PostgreSQL databases for this run (None on SQLite), dropped at the end.

    Every deployment gets a database of its own: instances in one database
    would share rows sealed under different master keys, which one real
    instance never has.
    """

    def __init__(self) -> None:
        self.created: list[str] = []
        self._base = PG_ADMIN_URL.rsplit("/", 1)[0]

    def __call__(self) -> str | None:
        if BACKEND != "postgresql":
            return None
        name = f"chatgrid_test_{secrets.token_hex(6)}"
        try:
            admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:
            pytest.exit(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}", returncode=3)
        with admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return f"{self._base}/{name}"

    def drop_all(self) -> None:
        if not self.created:
            return
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            for name in self.created:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@pytest.fixture(scope="session")
def new_database() -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory()
    try:
        yield factory
    finally:
        factory.drop_all()


@pytest.fixture
def postgres_database(new_database: DatabaseFactory) -> str | None:
    """A database of this test's own on PostgreSQL, or None on SQLite."""
    return new_database()


@pytest.fixture(scope="session")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    process = start_simulator(tmp_path_factory.mktemp("simulator"))
    try:
        yield process
    finally:
        process.stop()


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


@pytest.fixture
def context(tmp_path: Path, postgres_database: str | None) -> Iterator[AppContext]:
    """An in-process app context on a migrated database (for storage tests)."""
    ctx = AppContext.open(make_settings(tmp_path / "data", postgres_database))
    upgrade_to_head(ctx.engine)
    ctx.prices.seed_defaults()
    try:
        yield ctx
    finally:
        ctx.close()


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
    data_dir = tmp_path / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = instance_env(settings_env(data_dir, database_url))
    settings = make_settings(data_dir, database_url)
    if redis_prefix is not None:
        env.update(CHATGRID_REDIS_URL=REDIS_URL, CHATGRID_REDIS_PREFIX=redis_prefix)
        settings = settings.model_copy(
            update={"redis_url": REDIS_URL, "redis_prefix": redis_prefix}
        )
    ctx = AppContext.open(settings)
    upgrade_to_head(ctx.engine)
    ctx.prices.seed_defaults()
    instance = ChatGridInstance(env=env, data_dir=data_dir)
    instance.start()
    try:
        yield Deployment(instance, ctx, simulator)
    finally:
        instance.stop()
        ctx.close()


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
    new_database: DatabaseFactory,
    simulator: RunningProcess,
) -> Iterator[Deployment]:
    """One server per test module; tests make their own orgs so they never collide."""
    yield from start_deployment(tmp_path_factory.mktemp("deployment"), new_database(), simulator)
