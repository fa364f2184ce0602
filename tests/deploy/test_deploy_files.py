"""The deployment files parse and keep their promises (the cheap part of deploy/check.sh).

What needs root, podman or minutes (building the image, serving /healthz from
it in a chroot) is in ``deploy/check.sh --image``, never here. Rendering the
chart with Helm's own code and checking the manifests against Kubernetes'
schemas is ``deploy/check.sh`` too (it installs Helm's 75 MB SDK in a venv of
its own), not a test that would skip here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CHART = DEPLOY / "helm" / "chatgrid"


def test_every_yaml_and_json_file_parses() -> None:
    plain_yaml = [p for p in DEPLOY.rglob("*.y*ml") if "templates" not in p.parts]
    assert plain_yaml
    for path in plain_yaml:
        assert list(yaml.safe_load_all(path.read_text())), path
    for path in DEPLOY.rglob("*.json"):
        json.loads(path.read_text())


def test_dockerfile_is_multi_stage_slim_non_root_with_a_health_check() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+\S+\s+AS\s+(\w+)", text, re.MULTILINE)
    assert stages == ["build", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    assert "COPY --from=build /opt/chatgrid /opt/chatgrid" in runtime
    assert re.search(r"^USER 10001", runtime, re.MULTILINE)
    assert "/healthz" in runtime and "HEALTHCHECK" in runtime
    assert 'ENTRYPOINT ["/opt/chatgrid/bin/chatgrid", "serve"]' in runtime
    assert "pip" not in runtime.replace("PIP", "")  # no build tools in the runtime stage


def test_compose_runs_two_replicas_behind_a_trusted_proxy() -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    services = compose["services"]
    replicas = [name for name in services if name.startswith("chatgrid-")]
    assert len(replicas) == 2
    assert {"postgres", "redis", "proxy"} <= set(services)
    subnet = compose["networks"]["backend"]["ipam"]["config"][0]["subnet"]
    for name in replicas:
        env = services[name]["environment"]
        assert env["CHATGRID_TRUSTED_PROXIES"] == subnet
        assert env["CHATGRID_DATABASE_URL"].startswith("postgresql://")
        assert env["CHATGRID_REDIS_URL"].startswith("redis://")
        assert "CHATGRID_MASTER_KEY" in env
    nginx = (DEPLOY / "compose" / "nginx.conf").read_text()
    for name in replicas:
        assert f"server {name}:8000" in nginx
    # The proxy overwrites the header a client may have sent: it never appends to it.
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx


def test_chart_probes_and_secrets() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    deployment = (CHART / "templates" / "deployment.yaml").read_text()
    assert "path: /readyz" in deployment.split("readinessProbe:", 1)[1].split("Probe:", 1)[0]
    assert "path: /healthz" in deployment.split("livenessProbe:", 1)[1]
    for key in ("masterKey", "databaseUrl", "redisUrl"):
        assert f".Values.secretKeys.{key}" in deployment
    assert "CHATGRID_MASTER_KEY" in deployment
    assert "secretKeyRef" in deployment and values["existingSecret"]
    assert not any("KEY" in name or "URL" in name for name in values["env"])


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (DEPLOY / "systemd" / "chatgrid.service").read_text()
    chatgrid = Path(sys.executable).with_name("chatgrid")
    copy = tmp_path / "chatgrid.service"
    copy.write_text(unit.replace("/opt/chatgrid/bin/chatgrid", str(chatgrid)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "chatgrid.service" not in result.stderr, result.stderr
