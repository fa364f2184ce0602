"""A webhook URL, a Slack URL and a signing secret, used through a whole scenario on a real
server, are found nowhere afterwards: not in the database's files, the server's log, the
data dir, nor anything the commands printed (but the one answer that shows the secret)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatgrid.alerts import verify_signature
from tests.support.deployment import Deployment, database_text, start_deployment
from tests.support.processes import RunningProcess
from tests.support.waiting import wait_for
from tests.support.webhooks import running_receiver


@pytest.fixture
def own_deployment(
    tmp_path: Path, postgres_database: str | None, simulator: RunningProcess
) -> Iterator[Deployment]:
    yield from start_deployment(tmp_path, postgres_database, simulator)


def test_alert_urls_and_signing_secret_leak_nowhere(own_deployment: Deployment) -> None:
    deployment = own_deployment
    webhook_path = f"whpath{secrets.token_hex(12)}"
    slack_path = f"T0/B0/slackpath{secrets.token_hex(12)}"
    seen: list[str] = []

    def cli(*args: str, shown: bool = True) -> object:
        result = deployment.instance.cli(*args)
        assert result.returncode == 0, result.stderr
        if shown:
            seen.extend([result.stdout, result.stderr])
        return json.loads(result.stdout)

    cli("org", "create", "alert-canary", "--mode", "byok")
    with running_receiver([500, 200]) as hook, running_receiver() as slack:
        added = cli(
            "alert",
            "channel",
            "add",
            "alert-canary",
            "--webhook",
            f"{hook.url}/{webhook_path}",
            shown=False,  # the one answer that shows the secret, on purpose
        )
        assert isinstance(added, dict)
        secret = added["signing_secret"]
        seen.append(json.dumps({k: v for k, v in added.items() if k != "signing_secret"}))
        cli("alert", "channel", "add", "alert-canary", "--slack", f"{slack.url}/{slack_path}")
        cli("alert", "channel", "list", "alert-canary")
        cli("alert", "test", "alert-canary")
        # The server's worker sends both; the webhook's 500 is retried 30 s later, so the
        # test re-sends it by hand instead of waiting.
        wait_for(lambda: len(hook.received) == 1 and len(slack.received) == 1, timeout=60)
        rows = wait_for(
            lambda: [
                d
                for d in cli("alert", "deliveries", "alert-canary")  # type: ignore[attr-defined]
                if d["last_status_code"] == 500
            ]
        )
        cli("vault", "rotate-master")
        cli("alert", "resend", "alert-canary", rows[0]["id"])
        wait_for(lambda: len(hook.received) == 2, timeout=60)
        for channel in cli("alert", "channel", "list", "alert-canary"):  # type: ignore[attr-defined]
            cli("alert", "channel", "remove", "alert-canary", channel["id"])
    final = hook.received[-1]
    assert verify_signature(
        secret,
        final.body,
        final.headers["x-chatgrid-signature"],
        now=int(final.headers["x-chatgrid-signature"].split(",")[0][2:]),
    )

    deployment.instance.stop()
    assert deployment.instance.server is not None
    haystacks = {
        "what ChatGrid printed": "\n".join(seen).encode(),
        "server log": deployment.instance.server.log_text().encode(),
        "database": database_text(deployment),
        "data dir": b"".join(
            p.read_bytes() for p in deployment.instance.data_dir.rglob("*") if p.is_file()
        ),
    }
    needles = {
        "webhook path": webhook_path.encode(),
        "slack path": slack_path.split("/")[-1].encode(),
        "signing secret": secret.removeprefix("whsec_").encode(),
    }
    for where, haystack in haystacks.items():
        assert haystack, f"nothing collected from {where}"
        for what, needle in needles.items():
            assert needle not in haystack, f"the {what} leaked into the {where}"
