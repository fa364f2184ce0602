"""`chatgrid price set-unit` adds a dated unit price; `price list` shows unit prices after the
token prices, as they are on the day asked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chatgrid.audit import AuditFilter
from chatgrid.context import AppContext
from tests.support.deployment import make_settings, settings_env
from tests.support.processes import ChatGridInstance, instance_env

# Runs the `chatgrid` command as a child process, which faketime's clock matrix cannot host.
pytestmark = pytest.mark.child_processes


@pytest.fixture
def admin(tmp_path: Path, postgres_database: str | None) -> ChatGridInstance:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return ChatGridInstance(
        env=instance_env(settings_env(data_dir, postgres_database)), data_dir=data_dir
    )


def ok(instance: ChatGridInstance, *args: str) -> object:
    result = instance.cli(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_unit_price_set_from_the_command_line_is_listed_from_its_day(
    admin: ChatGridInstance, postgres_database: str | None
) -> None:
    later = datetime.now(UTC).date() + timedelta(days=3)
    added = ok(
        admin,
        *("price", "set-unit", "gpt-image-1", "--kind", "images"),
        *("--variant", "1024x1024/high", "--micros", "150000", "--from", later.isoformat()),
    )
    assert added == {
        "model": "gpt-image-1",
        "effective_from": later.isoformat(),
        "kind": "images",
        "variant": "1024x1024/high",
        "per": "image",
        "usd": "0.150000",
        "micros": 150_000,
    }
    speech = ok(admin, "price", "set-unit", "tts-1", "--kind", "characters", "--micros", "1")
    assert speech["per"] == "1M characters"  # type: ignore[index]

    def listed(day: str) -> dict[tuple[str, str], object]:
        rows = ok(admin, "price", "list", "--on", day)
        assert isinstance(rows, list)
        assert any("input_per_mtok" in row and row["model"] == "gpt-4o-mini" for row in rows)
        return {(r["model"], r["variant"]): r["micros"] for r in rows if "micros" in r}

    before = listed((later - timedelta(days=1)).isoformat())
    after = listed(later.isoformat())
    assert before[("gpt-image-1", "1024x1024/high")] == 167_000
    assert after[("gpt-image-1", "1024x1024/high")] == 150_000
    assert after[("tts-1", "")] == 1 and after[("dall-e-3", "1024x1024/hd")] == 80_000
    ctx = AppContext.open(make_settings(admin.data_dir, postgres_database))
    try:
        actions = ctx.audit.entries(None, AuditFilter(action="unit_price.added", limit=5))
        assert sorted(e.target or "" for e in actions) == ["gpt-image-1", "tts-1"]
    finally:
        ctx.close()


def test_a_unit_price_breaking_a_rule_is_refused_cleanly(admin: ChatGridInstance) -> None:
    result = admin.cli("price", "set-unit", "whisper-1", "--kind", "images", "--micros", "5")
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.startswith("error: ") and "size and quality" in result.stderr
    past = admin.cli(
        *("price", "set-unit", "whisper-1", "--kind", "audio_ms", "--micros", "5"),
        *("--effective-from", "2020-01-01"),
    )
    assert past.returncode != 0 and "past calls keep" in past.stderr
