"""Health endpoints and the non-/v1 surface of a running server."""

from __future__ import annotations

import httpx

from tests.support.deployment import Deployment


def test_health_and_readiness(deployment: Deployment) -> None:
    base = deployment.instance.base_url
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{base}/readyz").json() == {"status": "ready"}
    assert httpx.get(f"{base}/nowhere").status_code == 404
