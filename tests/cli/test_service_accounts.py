"""`chatgrid service-account create|list|rotate|revoke`, in-process (Typer's runner)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from chatgrid.cli import app
from tests.support.deployment import settings_env


def _run(env: dict[str, str | None], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_a_service_account_is_made_listed_rotated_and_revoked_by_name(
    tmp_path: Path, postgres_database: str | None
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CHATGRID_")}
    env.update(settings_env(data_dir, postgres_database))
    assert _run(env, "org", "create", "robots-co")[0] == 0

    code, out, _ = _run(env, "service-account", "create", "robots-co", "nightly", "--scope", "v1")
    created: dict[str, Any] = json.loads(out)
    secret = created["token"]
    assert code == 0 and secret.startswith("cgsa_") and len(secret) > 40
    assert (created["name"], created["scope"], created["prefix"]) == ("nightly", "v1", secret[:12])

    code, out, _ = _run(env, "service-account", "list", "robots-co")
    assert code == 0 and secret not in out
    assert [(a["id"], a["prefix"]) for a in json.loads(out)] == [(created["id"], secret[:12])]

    code, out, _ = _run(env, "service-account", "rotate", "robots-co", "nightly")
    rotated = json.loads(out)
    assert code == 0 and rotated["id"] == created["id"]
    assert rotated["token"] != secret and rotated["prefix"] == rotated["token"][:12]

    code, out, _ = _run(env, "service-account", "revoke", "robots-co", created["id"])
    assert code == 0 and json.loads(out)["revoked_at"] is not None
    code, out, err = _run(env, "service-account", "revoke", "robots-co", "nightly")
    assert (code, out) == (1, "") and err == "error: no such service account\n"

    code, _, err = _run(env, "service-account", "create", "robots-co", "x", "--scope", "root")
    assert code == 2 and "root" in err
    code, out, err = _run(env, "service-account", "create", "nope", "x", "--scope", "admin")
    assert (code, out) == (1, "") and err.startswith("error: ")
