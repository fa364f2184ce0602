"""How pages word a call's non-token units, and how buckets sum them (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from chatgrid.analytics import usage

DAY = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "count", "variant", "text"),
    [
        ("images", 1, "1024x1024/high", "1 image · 1024x1024/high"),
        ("images", 2, "1536x1024/low", "2 images · 1536x1024/low"),
        ("audio_ms", 192_000, "", "3.2 audio min"),
        ("audio_ms", 60_000, "", "1 audio min"),
        ("audio_ms", 3_600_000 * 20, "", "1,200 audio min"),
        ("audio_ms", 3_500, "", "≈0.06 audio min"),  # 0.058333…
        ("audio_ms", 300, "", "≈0.01 audio min"),  # 0.005: half up
        ("audio_ms", 0, "", "0 audio min"),
        ("characters", 1_240, "", "1,240 characters"),
        ("characters", 1, "", "1 character"),
        ("inputs", 5, "", "5 inputs"),
        ("inputs", 1, "", "1 input"),
        ("seconds", 7, "", "7 seconds"),  # a kind a newer ledger may write
    ],
)
def test_units_are_worded_exactly(kind: str, count: int, variant: str, text: str) -> None:
    assert usage.units_text(kind, count, variant) == text


def row(member: str, model: str, kind: str | None, units: int, variant: str = "") -> usage.UsageRow:
    return usage.UsageRow(
        started_at=DAY,
        member_id=member,
        member_email=None,
        model=model,
        mode="byok",
        prompt_tokens=0 if kind else 10,
        completion_tokens=0 if kind else 5,
        list_cost_micros=1_000,
        charged_micros=0,
        units_kind=kind,
        units=units,
        units_variant=variant,
    )


def test_buckets_sum_units_per_kind_and_variant_in_kind_order() -> None:
    rows = [
        row("m1", "gpt-4o-mini", None, 0),
        row("m1", "omni-moderation-latest", "inputs", 5),
        row("m1", "gpt-image-1", "images", 2, "1024x1024/high"),
        row("m2", "gpt-image-1", "images", 1, "1024x1024/high"),
        row("m2", "gpt-image-1", "images", 1, "1024x1024/low"),
        row("m2", "whisper-1", "audio_ms", 120_000),
        row("m2", "whisper-1", "audio_ms", 72_000),
    ]
    report = usage.report(rows, date(2026, 10, 1), date(2026, 10, 2))
    assert report.total.units_texts() == [
        "3 images · 1024x1024/high",
        "1 image · 1024x1024/low",
        "3.2 audio min",
        "5 inputs",
    ]
    assert report.total.tokens == 15 and report.total.requests == 7
    as_dict = report.total.as_dict()
    assert (as_dict["images"], as_dict["audio_ms"], as_dict["characters"], as_dict["inputs"]) == (
        4,
        192_000,
        0,
        5,
    )
    models = {b.key: b for b in report.models}
    assert models["gpt-4o-mini"].units_texts() == []
    assert models["whisper-1"].units_texts() == ["3.2 audio min"]
    members = {b.key: b for b in report.members}
    assert members["m2"].unit_total("images") == 2 and members["m1"].unit_total("images") == 2
    assert report.days[0].units == report.total.units
