"""localstripe, a stateful fake Stripe server, as the tests' Stripe: started per test.

``use_localstripe`` points a deployment's ChatGrid at it (with its webhooks
sent to the running server, signed with ``WEBHOOK_SECRET``) and answers an
official ``stripe`` SDK client for the test's own calls.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import stripe

from chatgrid.admin import payments
from chatgrid.audit import Actor
from tests.support.deployment import Deployment
from tests.support.processes import free_port

WEBHOOK_SECRET = "whsec_" + secrets.token_hex(16)


@dataclass
class LocalStripe:
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_localstripe(tmp_path: Path) -> Iterator[LocalStripe]:
    port = free_port()
    log_path = tmp_path / "localstripe.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port)], stdout=log, stderr=log
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield LocalStripe(f"http://127.0.0.1:{port}", log_path)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def use_localstripe(
    deployment: Deployment,
    localstripe: LocalStripe,
    grace_days: int | None = None,
    publishable_key: str | None = None,
) -> stripe.StripeClient:
    """ChatGrid set up with localstripe as its Stripe, which sends it every event; a client."""
    payments.set_stripe(
        deployment.context,
        Actor.cli(),
        secret_key="sk_test_" + secrets.token_hex(8),
        webhook_secret=WEBHOOK_SECRET,
        api_base=localstripe.url,
        grace_days=grace_days,
        publishable_key=publishable_key,
    )
    hook = f"{deployment.instance.base_url}/webhooks/stripe"
    configured = httpx.post(
        f"{localstripe.url}/_config/webhooks/chatgrid", data={"url": hook, "secret": WEBHOOK_SECRET}
    )
    assert configured.status_code == 200
    return stripe.StripeClient(
        "sk_test_localstripe", base_addresses={"api": localstripe.url}, max_network_retries=0
    )
