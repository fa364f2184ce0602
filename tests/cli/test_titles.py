"""`chatgrid limits titles ORG [--on|--off]`, in-process (Typer's runner)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from chatgrid.audit import AuditFilter
from chatgrid.cli import app
from tests.support.console import open_context
from tests.support.deployment import settings_env


def _run(env: dict[str, str | None], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout


def test_the_command_line_shows_and_sets_generated_titles(
    tmp_path: Path, postgres_database: str | None
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CHATGRID_")}
    env.update(settings_env(data_dir, postgres_database))
    assert _run(env, "org", "create", "titles-co")[0] == 0

    code, out = _run(env, "limits", "titles", "titles-co")
    shown = json.loads(out)
    assert code == 0
    assert (shown["generated_titles"], shown["chosen"]) == (False, False)  # BYOK's default
    assert shown["title_model"] == "gpt-4o-mini"

    code, out = _run(env, "limits", "titles", "titles-co", "--on")
    assert code == 0 and json.loads(out)["generated_titles"] is True
    code, out = _run(env, "limits", "titles", "titles-co")
    assert (json.loads(out)["generated_titles"], json.loads(out)["chosen"]) == (True, True)
    with_audit = open_context(data_dir, postgres_database)
    try:
        org_id = with_audit.orgs.get("titles-co").id
        entries = with_audit.audit.entries(org_id, AuditFilter(action="org.titles_changed"))
    finally:
        with_audit.close()
    assert [(e.actor_email, e.details) for e in entries] == [
        ("cli", {"before": False, "after": True})
    ]
