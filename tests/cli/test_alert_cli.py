"""`chatgrid alert ...` as the operator runs it (in-process, Typer's runner), with a real
receiver and the worker's pass between commands."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chatgrid.alerts import verify_signature
from chatgrid.audit import AuditFilter
from chatgrid.cli import app
from chatgrid.context import AppContext
from chatgrid.gateway.alert_delivery import AlertDelivery
from chatgrid.identity.models import BillingMode
from chatgrid.providers.network import create_upstream_session
from chatgrid.store.types import utcnow
from tests.support.console import open_context
from tests.support.deployment import settings_env
from tests.support.webhooks import running_receiver


class Cli:
    def __init__(self, env: dict[str, str]) -> None:
        self.env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CHATGRID_")}
        self.env.update(env)
        self.outputs: list[str] = []

    def ok(self, *args: str) -> Any:
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert result.exit_code == 0, result.output
        self.outputs.append(result.output)
        return json.loads(result.stdout)

    def refused(self, *args: str) -> str:
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert result.exit_code == 1 and result.stdout == "", result.output
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
        return result.stderr


@pytest.fixture
def setup(tmp_path: Path, postgres_database: str | None) -> tuple[Cli, AppContext]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    ctx = open_context(data_dir, postgres_database)
    return Cli(settings_env(data_dir, postgres_database)), ctx


def deliver(ctx: AppContext) -> int:
    async def run() -> int:
        session = create_upstream_session(ctx.settings)
        try:
            return await AlertDelivery(ctx, session, None).deliver_due()
        finally:
            await session.close()

    return asyncio.run(run())


def test_channels_test_alert_log_and_resend_through_the_cli(
    setup: tuple[Cli, AppContext],
) -> None:
    cli, ctx = setup
    org = ctx.orgs.create("cli-alerts", BillingMode.BYOK)
    with running_receiver() as receiver:
        url = receiver.url + "/cliCanaryPath"
        added = cli.ok("alert", "channel", "add", org.name, "--webhook", url)
        secret = added["signing_secret"]
        assert added["kind"] == "webhook" and added["target"] == "127.0.0.1"
        listed = cli.ok("alert", "channel", "list", org.id)
        assert [c["id"] for c in listed] == [added["id"]]
        assert "signing_secret" not in listed[0]

        assert cli.ok("alert", "test", org.name) == {"queued": 1}
        assert deliver(ctx) == 1
        [got] = receiver.received
        assert verify_signature(
            secret, got.body, got.headers["x-chatgrid-signature"], now=int(utcnow().timestamp())
        )
        [row] = cli.ok("alert", "deliveries", org.name)
        assert (row["event"], row["status"], row["attempts"], row["last_status_code"]) == (
            "test",
            "delivered",
            1,
            200,
        )
        assert row["channel"] == "webhook:127.0.0.1"

        resent = cli.ok("alert", "resend", org.name, row["id"])
        assert (resent["status"], resent["attempts"]) == ("pending", 0)
        assert deliver(ctx) == 1
        assert len(receiver.received) == 2

        removed = cli.ok("alert", "channel", "remove", org.name, added["id"])
        assert removed == {"id": added["id"], "removed": True}
        assert cli.ok("alert", "channel", "list", org.name) == []
        cli.refused("alert", "resend", org.name, row["id"])

    actions = [e.action for e in ctx.audit.entries(org.id, AuditFilter())]
    assert {"alert_channel.added", "alert_channel.removed", "alert_delivery.resent"} <= set(actions)
    outputs = "".join(cli.outputs[1:])  # every output after the one that showed the secret
    assert secret not in outputs and "cliCanaryPath" not in "".join(cli.outputs)
    audit = json.dumps([e.details for e in ctx.audit.entries(org.id, AuditFilter())])
    assert secret not in audit and "cliCanaryPath" not in audit
    ctx.close()


def test_the_operator_has_channels_of_its_own(setup: tuple[Cli, AppContext]) -> None:
    cli, ctx = setup
    added = cli.ok("alert", "channel", "add", "--operator", "--email", "ops@example.com")
    assert added["org_id"] is None and "signing_secret" not in added
    assert [c["id"] for c in cli.ok("alert", "channel", "list", "--operator")] == [added["id"]]
    assert cli.ok("alert", "test", "--operator") == {"queued": 1}
    [row] = cli.ok("alert", "deliveries", "--operator")
    assert row["channel"] == "email:ops@example.com" and row["status"] == "pending"
    cli.refused("alert", "channel", "remove", "--operator", added["id"], "extra")
    assert cli.ok("alert", "channel", "remove", "--operator", added["id"])["removed"]
    ctx.close()


def test_refusals_are_plain(setup: tuple[Cli, AppContext]) -> None:
    cli, ctx = setup
    org = ctx.orgs.create("cli-alerts-refused", BillingMode.BYOK)
    assert "exactly one" in cli.refused("alert", "channel", "add", org.id)
    assert "exactly one" in cli.refused(
        "alert", "channel", "add", org.id, "--email", "a@b.co", "--slack", "https://x.test/"
    )
    assert "not both" in cli.refused("alert", "channel", "list", org.id, "--operator")
    assert "email address" in cli.refused("alert", "channel", "add", org.id, "--email", "nope")
    assert "https://" in cli.refused("alert", "channel", "add", org.id, "--webhook", "ftp://x")
    assert "no alert channel" in cli.refused("alert", "test", org.id)
    assert "no such alert channel" in cli.refused("alert", "channel", "remove", org.id, "ach_x")
    ctx.close()
