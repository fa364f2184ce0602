"""`chatgrid payments stripe ...`: secrets on standard input, shown nowhere (Typer's runner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chatgrid.cli import app
from tests.support.cli_runner import Cli
from tests.support.deployment import settings_env

SECRET = "sk_test_cli0123456789abcdef"
WEBHOOK = "whsec_cli0123456789abcdef"


@pytest.fixture
def cli(tmp_path: Path, postgres_database: str | None) -> Cli:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return Cli(settings_env(data_dir, postgres_database))


def run(cli: Cli, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=cli.env, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_stripe_is_set_shown_and_cleared_without_showing_a_secret(cli: Cli) -> None:
    assert cli.ok("payments", "stripe", "show") == {"provider": "manual", "stripe": None}
    code, out, err = run(
        cli, "payments", "stripe", "set", "--grace-days", "3", stdin=f"{SECRET}\n{WEBHOOK}\n"
    )
    assert code == 0, err
    shown = json.loads(out)
    assert shown["provider"] == "stripe" and shown["stripe"]["grace_days"] == 3
    assert SECRET not in out and WEBHOOK not in out
    assert cli.ok("payments", "stripe", "show")["stripe"]["fingerprint"].startswith("fp_")
    assert cli.ok("payments", "stripe", "clear") == {"provider": "manual", "stripe": None}
    assert "not configured" in cli.refused("payments", "stripe", "clear")


@pytest.mark.parametrize(
    ("stdin", "args", "says"),
    [
        (f"{SECRET}\n", [], "two lines"),
        (f"pk_test_x\n{WEBHOOK}\n", [], "starts with sk_"),
        (f"{SECRET}\nsecret\n", [], "starts with whsec_"),
        (f"{SECRET}\n{WEBHOOK}\n", ["--grace-days", "61"], "0 to 60 days"),
        (f"{SECRET}\n{WEBHOOK}\n", ["--api-base", "ftp://x"], "https://"),
    ],
)
def test_bad_stripe_settings_are_refused(cli: Cli, stdin: str, args: list[str], says: str) -> None:
    code, out, err = run(cli, "payments", "stripe", "set", *args, stdin=stdin)
    assert code == 1 and says in err and out == ""
    assert SECRET not in err and WEBHOOK not in err


def test_linking_or_charging_without_stripe_is_refused_plainly(cli: Cli) -> None:
    cli.ok("org", "create", "unpaid-co")
    assert "Stripe is not configured" in cli.refused(
        "payments", "stripe", "link", "unpaid-co", "cus_123"
    )
    assert "a Stripe customer id starts with cus_" in cli.refused(
        "payments", "stripe", "link", "unpaid-co", "123"
    )
    assert "no invoice for 2020-01" in cli.refused(
        "payments", "stripe", "charge", "unpaid-co", "2020-01"
    )
