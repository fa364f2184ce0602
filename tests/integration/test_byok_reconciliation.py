"""BYOK reconciliation end to end: calls through ChatGrid reconcile to no difference; calls
made straight to the upstream with the same key show up as the difference, and alert.

A real ChatGrid and the simulator as OpenAI, driven by the official SDK on
both paths; the usage pages are what the simulator's Usage API answers an
admin key (as an admin downloads them from OpenAI), reconciled through the
command line; then ChatGrid reads the Usage and Costs APIs itself with the
admin key the org stored, which is found nowhere in plaintext.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
from sqlalchemy import select

from chatgrid.admin import alerts
from chatgrid.alerts import ChannelKind
from chatgrid.audit import Actor
from chatgrid.simulator.usage import DAY, api_key_id
from chatgrid.store.tables import alert_deliveries
from tests.support.cli_runner import Cli
from tests.support.deployment import Deployment, database_text, settings_env

ADMIN_KEY = "sk-admin-" + secrets.token_hex(12)


def usage_pages(deployment: Deployment, key: str) -> list[object]:
    """Today's completions usage for the key, per model, as OpenAI's Usage API pages."""
    today = int(datetime.now(UTC).timestamp()) // DAY * DAY
    answer = httpx.get(
        f"{deployment.simulator.base_url}/v1/organization/usage/completions",
        params={"start_time": today, "group_by": "model", "api_key_ids": api_key_id(key)},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    assert answer.status_code == 200, answer.text
    return [answer.json()]


def reconcile(
    cli: Cli, tmp_path: Path, org_id: str, pages: list[object], key: str
) -> dict[str, Any]:
    """``chatgrid reconcile`` on the pages, as an admin runs it on a downloaded file."""
    path = tmp_path / f"usage-{secrets.token_hex(3)}.json"
    path.write_text(json.dumps(pages))
    found: dict[str, Any] = cli.ok(
        "reconcile", org_id, "--file", str(path), "--api-key-id", api_key_id(key)
    )
    return found


def test_calls_outside_chatgrid_are_the_difference_and_alert(
    deployment: Deployment, tmp_path: Path
) -> None:
    ctx = deployment.context
    org = deployment.new_org()
    assert org.key is not None
    alerts.add_channel(ctx, org.id, Actor.cli(), ChannelKind.WEBHOOK, "http://127.0.0.1:9/hook")
    cli = Cli(settings_env(deployment.instance.data_dir, ctx.settings.database_url))
    question = [{"role": "user", "content": "What is on the agenda?"}]

    through = openai.OpenAI(base_url=deployment.v1, api_key=org.token, max_retries=0)
    for _ in range(3):
        through.chat.completions.create(model="gpt-4o-mini", messages=question)  # type: ignore[arg-type]
    clean = reconcile(cli, tmp_path, org.id, usage_pages(deployment, org.key), org.key)
    (line,) = clean["lines"]
    assert line["model"] == "gpt-4o-mini" and line["openai"]["requests"] == 3
    assert line["openai"] == line["chatgrid"]  # requests and tokens, to the token
    assert line["difference"] == {"requests": 0, "input_tokens": 0, "output_tokens": 0}
    assert clean["used_outside"] == []

    straight = openai.OpenAI(
        base_url=f"{deployment.simulator.base_url}/v1", api_key=org.key, max_retries=0
    )
    for _ in range(2):
        straight.chat.completions.create(model="gpt-4o-mini", messages=question)  # type: ignore[arg-type]
    leaked = reconcile(cli, tmp_path, org.id, usage_pages(deployment, org.key), org.key)
    (line,) = leaked["lines"]
    assert line["openai"]["requests"] == 5 and line["chatgrid"]["requests"] == 3
    assert line["difference"]["requests"] == 2
    per_call = line["chatgrid"]["input_tokens"] // 3
    assert line["difference"]["input_tokens"] == 2 * per_call
    assert leaked["used_outside"] == [line] and leaked["extra_requests"] == 2

    with ctx.engine.connect() as conn:
        queued = conn.execute(
            select(alert_deliveries.c.event_kind, alert_deliveries.c.payload).where(
                alert_deliveries.c.org_id == org.id
            )
        ).all()
    assert [kind for kind, _ in queued] == ["key.used_outside"]
    assert org.key not in json.dumps([payload for _, payload in queued])
    # The same finding again alerts nobody twice.
    reconcile(cli, tmp_path, org.id, usage_pages(deployment, org.key), org.key)
    with ctx.engine.connect() as conn:
        again = conn.execute(
            select(alert_deliveries.c.id).where(alert_deliveries.c.org_id == org.id)
        ).all()
    assert len(again) == 1

    # ChatGrid reads the same from OpenAI itself, with the org's admin key (stdin, sealed).
    stored = cli.ok(
        "reconcile-key", "set", org.id, "--api-key-id", api_key_id(org.key), input=ADMIN_KEY
    )
    assert stored["admin_key"]["last4"] == ADMIN_KEY[-4:]
    cli.ok("vault", "rotate-master")  # the admin key is rewrapped and still opens
    fetched = cli.ok("reconcile", org.id, "--fetch", "--days", "2")
    assert fetched["lines"][-1] == line and fetched["source"] == "openai"
    (*_, today) = fetched["costs"]
    openai_micros, ledger_micros = Decimal(today["openai_micros"]), int(today["chatgrid_micros"])
    assert (
        ledger_micros > 0 and abs(openai_micros * 3 / 5 - ledger_micros) <= 3
    )  # per-call rounding
    assert Decimal(today["difference_micros"]) == openai_micros - ledger_micros
    said = json.dumps([stored, fetched, cli.ok("reconcile-key", "show", org.id)])
    assert ADMIN_KEY not in said and ADMIN_KEY.encode() not in database_text(deployment)
    assert cli.ok("reconcile-key", "remove", org.id)["admin_key"] is None
