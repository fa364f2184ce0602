"""`chatgrid scim token create|list|revoke`, in-process (Typer's runner) on a real database."""

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


def test_a_scim_token_is_shown_once_listed_by_prefix_and_revoked(
    tmp_path: Path, postgres_database: str | None
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CHATGRID_")}
    env.update(settings_env(data_dir, postgres_database))
    assert _run(env, "org", "create", "scim-co")[0] == 0

    code, out, _ = _run(env, "scim", "token", "create", "scim-co")
    created: dict[str, Any] = json.loads(out)
    secret = created["token"]
    assert code == 0 and secret.startswith("cgscim_") and len(secret) > 40
    assert created["prefix"] == secret[:14] and created["revoked_at"] is None

    code, out, _ = _run(env, "scim", "token", "list", "scim-co")
    assert code == 0 and secret not in out
    assert [(t["id"], t["prefix"]) for t in json.loads(out)] == [(created["id"], created["prefix"])]

    code, out, _ = _run(env, "scim", "token", "revoke", "scim-co", created["id"])
    assert code == 0 and json.loads(out)["revoked_at"] is not None

    code, out, err = _run(env, "scim", "token", "revoke", "scim-co", "sct_nothing")
    assert (code, out) == (1, "") and err == "error: no such SCIM token\n"
    code, out, err = _run(env, "scim", "token", "create", "no-such-org")
    assert (code, out) == (1, "") and err.startswith("error: ")
