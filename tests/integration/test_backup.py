"""``chatgrid backup`` while a real server serves /v1 under load, then ``restore``.

The restored database must say the same money as the live one: the same
ledger rows (a backup taken under load is a consistent prefix of the live
ledger), the same totals and invoices once the load has stopped, and the
upstream keys must still open with the master key kept apart from the backup.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from chatgrid.admin import billing
from chatgrid.audit import Actor
from chatgrid.billing.seats import Month
from chatgrid.billing.standing import draft_invoice
from chatgrid.context import AppContext
from chatgrid.identity.models import BillingMode
from chatgrid.store.backup import MARKER_TABLE
from chatgrid.vault.envelope import SecretUnreadable
from tests.support.deployment import (
    Deployment,
    OrgHandle,
    add_pool_keys,
    make_settings,
    settings_env,
    start_deployment,
)
from tests.support.processes import ChatGridInstance, RunningProcess, instance_env

pytestmark = pytest.mark.sqlite_only  # `chatgrid backup` copies SQLite; PostgreSQL has pg_dump
ACTOR = Actor.cli()


@pytest.fixture
def served(tmp_path: Path, simulator: RunningProcess) -> Iterator[Deployment]:
    yield from start_deployment(tmp_path / "live", None, simulator)


def cli_ok(instance: ChatGridInstance, *args: str) -> dict[str, object]:
    result = instance.cli(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def fresh_instance(tmp_path: Path, name: str) -> ChatGridInstance:
    data_dir = tmp_path / name
    data_dir.mkdir()
    return ChatGridInstance(env=instance_env(settings_env(data_dir, None)), data_dir=data_dir)


def send_calls(url: str, orgs: list[OrgHandle], stop: threading.Event, codes: list[int]) -> None:
    """Calls until told to stop: however long the backup takes on a busy machine, the load
    is still running when it ends (``wait_for_calls``' deadline bounds the whole)."""
    with httpx.Client(timeout=30) as http:
        n = 0
        while not stop.is_set():
            org = orgs[n % len(orgs)]
            body = {
                "model": "gpt-4o-mini",
                "stream": n % 3 == 0,
                "messages": [{"role": "user", "content": f"load {n}"}],
            }
            reply = http.post(url, headers={"Authorization": f"Bearer {org.token}"}, json=body)
            codes.append(reply.status_code)
            n += 1


def wait_for_calls(codes: list[int], count: int, threads: list[threading.Thread]) -> None:
    """Until ``count`` calls were answered (bounded: a dead server must not hang the test)."""
    deadline = time.monotonic() + 120
    while len(codes) < count:
        assert time.monotonic() < deadline, f"only {len(codes)} calls answered"
        assert any(t.is_alive() for t in threads), "every load thread ended"
        time.sleep(0.05)


def ledger_rows(ctx: AppContext, org_id: str) -> dict[int, dict[str, object]]:
    return {int(row["id"]): row for row in ctx.usage.entries(org_id)}


def money_view(ctx: AppContext, orgs: list[OrgHandle], month: Month) -> dict[str, object]:
    """What the billing side says about each org: totals, draft and issued invoices."""
    view: dict[str, object] = {}
    for org in orgs:
        draft = draft_invoice(ctx.billing, ctx.plans, org.id, month)
        issued = ctx.billing.invoice(org.id, str(month))
        view[org.id] = {
            "totals": ctx.usage.totals(org.id, since=month.start),
            "draft": repr(draft),
            "issued": None if issued is None else (issued.total_micros, repr(issued)),
        }
    return view


def restored_context(instance: ChatGridInstance) -> AppContext:
    return AppContext.open(make_settings(instance.data_dir, None))


def test_backup_under_load_restores_the_same_money_and_keys(
    served: Deployment, tmp_path: Path
) -> None:
    live = served
    add_pool_keys(live, 1)
    orgs = [live.new_org(), live.new_org(BillingMode.SHARED)]
    url = f"{live.v1}/chat/completions"
    stop = threading.Event()
    codes: list[int] = []
    threads = [threading.Thread(target=send_calls, args=(url, orgs, stop, codes)) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_for_calls(codes, 40, threads)
        under_load = cli_ok(live.instance, "backup", str(tmp_path / "under-load.db"))
        calls_during = len(codes)
        wait_for_calls(codes, calls_during + 40, threads)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert set(codes) == {200}, codes
    assert str(live.context.settings.data_dir / "master.key") == under_load["master_key"]
    assert "does not contain the master key" in str(under_load["note"])

    # The backup taken under load: a consistent prefix of the live ledger, row for row.
    first = fresh_instance(tmp_path, "restored-under-load")
    cli_ok(first, "restore", str(under_load["backup"]))
    shutil.copy(live.context.settings.data_dir / "master.key", first.data_dir / "master.key")
    ctx = restored_context(first)
    try:
        for org in orgs:
            live_rows = ledger_rows(live.context, org.id)
            restored = ledger_rows(ctx, org.id)
            assert restored, "the backup holds the calls made before it"
            assert all(live_rows[i] == row for i, row in restored.items())
            newest = max(restored)
            assert {i for i in live_rows if i <= newest} == set(restored)
    finally:
        ctx.close()

    # Load over, server still serving: a backup says exactly what the live data says.
    month = Month.of(datetime.now(UTC))
    for org in orgs:
        billing.issue_invoice(
            live.context, org.id, str(month), actor=ACTOR, now=month.end.replace(day=2)
        )
    quiet = cli_ok(live.instance, "backup", str(tmp_path / "quiet.db"))
    second = fresh_instance(tmp_path, "restored-quiet")
    result = cli_ok(second, "restore", str(quiet["backup"]))
    assert result["schema_revision"] == quiet["schema_revision"]
    shutil.copy(live.context.settings.data_dir / "master.key", second.data_dir / "master.key")
    ctx = restored_context(second)
    try:
        assert money_view(ctx, orgs, month) == money_view(live.context, orgs, month)
        for org in orgs:
            assert ledger_rows(ctx, org.id) == ledger_rows(live.context, org.id)
        byok = ctx.credentials.current(orgs[0].id)
        assert byok is not None
        assert ctx.vault.open(byok.sealed, binding=byok.binding) == orgs[0].key
        pooled = ctx.pool.list()[0]
        assert ctx.vault.open(pooled.sealed, binding=pooled.binding).startswith("sk-pool-0")
        with sqlite3.connect(second.data_dir / "chatgrid.db") as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert MARKER_TABLE not in tables
    finally:
        ctx.close()

    # Without the master key the restored keys stay sealed: by design.
    third = fresh_instance(tmp_path, "restored-without-key")
    cli_ok(third, "restore", str(quiet["backup"]))
    ctx = restored_context(third)  # generates a new, different key
    try:
        byok = ctx.credentials.current(orgs[0].id)
        assert byok is not None
        with pytest.raises(SecretUnreadable):
            ctx.vault.open(byok.sealed, binding=byok.binding)
    finally:
        ctx.close()


def refused(instance: ChatGridInstance, *args: str) -> str:
    result = instance.cli(*args)
    assert result.returncode == 1 and result.stdout == ""
    return result.stderr


def test_restore_refuses_what_it_should(served: Deployment, tmp_path: Path) -> None:
    taken = cli_ok(served.instance, "backup", str(tmp_path / "b.db"))
    assert "exists" in refused(served.instance, "backup", str(taken["backup"]))
    assert "already holds a database" in refused(served.instance, "restore", str(taken["backup"]))

    target = fresh_instance(tmp_path, "target")
    not_ours = tmp_path / "not-ours.db"
    with sqlite3.connect(not_ours) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert "not a ChatGrid backup" in refused(target, "restore", str(not_ours))
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello")
    assert "not a ChatGrid backup" in refused(target, "restore", str(text_file))

    newer = tmp_path / "newer.db"
    shutil.copy(str(taken["backup"]), newer)
    with sqlite3.connect(newer) as conn:
        conn.execute(f"UPDATE {MARKER_TABLE} SET revision = '9999_from_the_future'")  # noqa: S608
    assert "newer ChatGrid" in refused(target, "restore", str(newer))
    assert not (target.data_dir / "chatgrid.db").exists()

    # An older backup is migrated after restore: take one at the schema before head.
    older = tmp_path / "older.db"
    shutil.copy(str(taken["backup"]), older)
    previous = one_revision_back(older)
    result = cli_ok(target, "restore", str(older))
    assert result["schema_revision"] == previous
    with sqlite3.connect(target.data_dir / "chatgrid.db") as conn:
        now_at = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    assert now_at == taken["schema_revision"] != previous


def one_revision_back(path: Path) -> str:
    """Downgrade a backup file by one migration, as an older ChatGrid would have made it."""
    from alembic import command
    from sqlalchemy import create_engine

    from chatgrid.store.migrate import _alembic_config

    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            config = _alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "-1")
            revision = str(
                connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            )
            connection.exec_driver_sql(f"UPDATE {MARKER_TABLE} SET revision = ?", (revision,))  # noqa: S608
    finally:
        engine.dispose()
    return revision


def test_postgresql_points_at_pg_dump(tmp_path: Path) -> None:
    env = settings_env(tmp_path / "data", "postgresql://postgres@127.0.0.1:5432/none")
    instance = ChatGridInstance(env=instance_env(env), data_dir=tmp_path / "data")
    message = refused(instance, "backup", str(tmp_path / "pg.db"))
    assert "pg_dump" in message
    assert not (tmp_path / "pg.db").exists()
