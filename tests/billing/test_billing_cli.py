"""The billing commands: JSON out, exact dollars in, clean refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from chatgrid.context import AppContext
from chatgrid.store.tables import orgs
from tests.support.deployment import instance_env, make_settings, settings_env
from tests.support.processes import ChatGridInstance

# Runs the `chatgrid` command as a child process, which faketime's clock matrix cannot host.
pytestmark = pytest.mark.child_processes


@pytest.fixture
def admin(tmp_path: Path, postgres_database: str | None) -> ChatGridInstance:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return ChatGridInstance(
        env=instance_env(settings_env(data_dir, postgres_database)), data_dir=data_dir
    )


def ok(instance: ChatGridInstance, *args: str) -> object:
    result = instance.cli(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.lstrip()[:1] in "[{" else result.stdout


def refused(instance: ChatGridInstance, *args: str) -> str:
    result = instance.cli(*args)
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.startswith("error: "), result.stderr
    return result.stderr


def start_trial(admin: ChatGridInstance, name: str, database_url: str | None) -> None:
    """As sign-up would: the org's trial ends in a day (the CLI never starts one)."""
    ctx = AppContext.open(make_settings(admin.data_dir, database_url))
    try:
        with ctx.engine.begin() as conn:
            ends = datetime.now(UTC) + timedelta(hours=23)
            conn.execute(update(orgs).where(orgs.c.name == name).values(trial_ends_at=ends))
    finally:
        ctx.close()


def test_plans_trials_caps_and_invoices_from_the_command_line(
    admin: ChatGridInstance, postgres_database: str | None
) -> None:
    plan = ok(
        admin,
        *("plan", "create", "Team", "--seat-price", "12.50", "--markup-bps", "1500"),
        *("--allowance-per-seat", "10", "--overage"),
    )
    assert plan == {
        "id": plan["id"],  # type: ignore[index]
        "name": "Team",
        "seat_price_usd": "12.500000",
        "markup_bps": 1500,
        "allowance_per_seat_usd": "10.000000",
        "overage": True,
        "is_default": False,
    }
    names = [p["name"] for p in ok(admin, "plan", "list")]  # type: ignore[union-attr]
    assert names == ["Standard", "Team"]
    assert "more than 6 decimals" in refused(
        admin,
        *("plan", "create", "Odd", "--seat-price", "1.0000001", "--markup-bps", "0"),
        *("--allowance-per-seat", "0"),
    )

    ok(admin, "org", "create", "acme", "--mode", "shared")
    ok(admin, "member", "add", "acme", "ann@example.com", "--role", "owner")
    assert "no trial" in refused(admin, "org", "extend-trial", "acme", "--days", "5")
    start_trial(admin, "acme", postgres_database)
    extended = ok(admin, "org", "extend-trial", "acme", "--days", "4")
    assert extended["trial_ends_at"] is not None  # type: ignore[index]
    status = ok(admin, "org", "billing", "acme")
    assert status["trial_state"] == "on_trial" and status["trial_days_left"] == 5  # type: ignore[index]
    assigned = ok(admin, "plan", "assign", "acme", "Team")
    assert assigned["plan_id"] == plan["id"]  # type: ignore[index]
    assert "no trial" in refused(admin, "org", "extend-trial", "acme", "--days", "5")

    cap = ok(admin, "member", "cap", "acme", "ann@example.com", "--usd", "3.25")
    assert cap["limit_micros"] == 3_250_000  # type: ignore[index]
    cleared = ok(admin, "member", "cap", "acme", "ann@example.com", "--clear")
    assert cleared["limit_micros"] is None  # type: ignore[index]
    assert "exactly one" in refused(admin, "member", "cap", "acme", "ann@example.com")

    assert "not over yet" in refused(admin, "invoice", "issue", "acme", "2999-01")
    assert "YYYY-MM" in refused(admin, "invoice", "issue", "acme", "2026-1")
    issued = ok(admin, "invoice", "issue", "acme", "2020-01")
    assert issued["status"] == "issued"  # type: ignore[index]
    assert ok(admin, "invoice", "list", "acme")[0]["id"] == issued["id"]  # type: ignore[index]
    shown = ok(admin, "invoice", "show", "acme", "2020-01", "--format", "csv")
    assert isinstance(shown, str) and shown.startswith("kind,") and "total" in shown
    paid = ok(admin, "invoice", "mark-paid", "acme", "2020-01", "--reference", "wire 7")
    assert paid["status"] == "paid" and paid["payment_reference"] == "wire 7"  # type: ignore[index]
    assert "already paid" in refused(
        admin, "invoice", "mark-paid", "acme", "2020-01", "--reference", "again"
    )
    assert ok(admin, "invoice", "issue-all", "2020-02") == []
