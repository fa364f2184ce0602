"""The ``chatgrid`` command in-process (Typer's runner), with exactly a test's settings."""

from __future__ import annotations

import json
import os
from typing import Any

from typer.testing import CliRunner

from chatgrid.cli import app


class Cli:
    """The command in-process, with exactly the test's CHATGRID_* settings."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CHATGRID_")}
        self.env.update(env)

    def ok(self, *args: str, input: str | None = None) -> Any:
        result = CliRunner().invoke(app, list(args), env=self.env, input=input)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def refused(self, *args: str) -> str:
        result = CliRunner().invoke(app, list(args), env=self.env)
        assert result.exit_code == 1 and result.stdout == "", result.output
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
        return result.stderr
