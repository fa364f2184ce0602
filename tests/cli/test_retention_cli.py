"""`chatgrid retention ...`: periods set, shown and refused as the docs say; a sweep prints
its receipts (Typer's runner, on this test's own database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli_runner import Cli
from tests.support.deployment import settings_env


@pytest.fixture
def cli(tmp_path: Path, postgres_database: str | None) -> Cli:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return Cli(settings_env(data_dir, postgres_database))


def test_periods_are_set_under_the_ceiling_shown_and_swept(cli: Cli) -> None:
    cli.ok("org", "create", "acme", "--mode", "byok")
    everything_kept = {
        "conversations": "forever",
        "documents": "forever",
        "audit": "forever",
        "ledger": "forever",
    }
    assert cli.ok("retention", "show") == {"instance": everything_kept}

    shown = cli.ok("retention", "set", "acme", "--conversations", "90", "--audit", "forever")
    assert shown["org"] == {"conversations": 90, "documents": "forever", "audit": "forever"}
    shown = cli.ok("retention", "set", "acme", "--documents", "365")  # the others stay
    assert shown["org"] == {"conversations": 90, "documents": 365, "audit": "forever"}

    ceiling = cli.ok("retention", "set-instance", "--conversations", "30", "--ledger", "3650")
    assert ceiling["instance"]["conversations"] == 30 and ceiling["instance"]["ledger"] == 3650
    effective = cli.ok("retention", "show", "acme")["effective"]
    assert effective == {"conversations": 30, "documents": 365, "audit": "forever", "ledger": 3650}

    assert cli.ok("retention", "sweep") == {"swept": True, "receipts": []}


def test_bad_periods_are_refused_clearly(cli: Cli) -> None:
    cli.ok("org", "create", "acme", "--mode", "byok")
    assert "whole number of days" in cli.refused("retention", "set", "acme", "--audit", "90d")
    assert "1 to 36500 days" in cli.refused("retention", "set", "acme", "--documents", "0")
    assert "366 to 36500" in cli.refused("retention", "set-instance", "--ledger", "30")
    assert "no org 'nobody'" in cli.refused("retention", "set", "nobody", "--audit", "30")
