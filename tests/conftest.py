"""Shared fixtures: a database per run (SQLite or PostgreSQL), the simulator,
real ``chatgrid serve`` processes, and orgs with tokens ready to call.

``CHATGRID_TEST_BACKEND=postgresql`` runs everything that touches storage on
PostgreSQL (``CHATGRID_TEST_POSTGRES_URL``); the run gets a database of its
own, dropped at the end. An unreachable server fails the run, never skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatgrid.context import AppContext
from chatgrid.store.migrate import upgrade_to_head
from tests.support.deployment import (
    BACKEND,
    DatabaseFactory,
    Deployment,
    make_settings,
    start_deployment,
)
from tests.support.passwords import FAST_HASHER, hashing_with
from tests.support.processes import (
    RunningProcess,
    start_simulator,
)

BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


def pytest_report_header() -> str:
    return f"chatgrid storage backend: {BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of several replicas need PostgreSQL: on the SQLite pass they are deselected.
    Tests of what exists on SQLite alone (its online backup) are deselected on the
    PostgreSQL pass. Deselected, not skipped: each runs on the pass it belongs to.

    The PostgreSQL pass also leaves out every test that cannot reach PostgreSQL:
    the only way to a database there is the ``new_database`` fixture, so a test
    without it in its fixtures runs exactly as it did on the SQLite pass. And it
    leaves out the browser tests: they check pages, which show the same rows
    whichever database holds them (what a page reads is tested on both passes
    through the console's and the API's own tests), and they cost minutes.
    """
    if BACKEND == "postgresql":
        keep = [i for i in items if _belongs_to_the_postgresql_pass(i)]
    else:
        keep = [i for i in items if not i.get_closest_marker("postgresql_only")]
    if len(keep) < len(items):
        kept = set(keep)
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = keep


def _belongs_to_the_postgresql_pass(item: pytest.Item) -> bool:
    if item.get_closest_marker("sqlite_only") or BROWSER_TESTS in item.path.parents:
        return False
    return "new_database" in getattr(item, "fixturenames", ())


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashes() -> Iterator[None]:
    """Cheap argon2id in the test process (``tests/support/passwords.py`` says why)."""
    with hashing_with(FAST_HASHER):
        yield


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


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
    new_database: DatabaseFactory,
    simulator: RunningProcess,
) -> Iterator[Deployment]:
    """One server per test module; tests make their own orgs so they never collide."""
    yield from start_deployment(tmp_path_factory.mktemp("deployment"), new_database(), simulator)
