"""Images, audio, speech and moderations made through the real gateway show their units
on the admin's usage and calls pages, in their CSV and JSON, and in ``chatgrid usage``;
every figure is the sum of the ledger's rows."""

from __future__ import annotations

import csv
import io
import json
import struct
from datetime import timedelta
from typing import Any

import httpx
import pytest

from chatgrid.identity.models import Role
from tests.support.console import Browser, add_user, unique
from tests.support.deployment import Deployment, OrgHandle
from tests.support.ledger_checks import ledger
from tests.support.shared_orgs import client

SPOKEN = "Twelve chars"


def wav(tenths: int, rate: int = 16_000) -> bytes:
    """A silent 16-bit mono WAV of ``tenths`` tenths of a second."""
    data = b"\0" * (rate * 2 * tenths // 10)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data))
    return b"RIFF" + struct.pack("<I", 4 + len(chunks) + len(data)) + b"WAVE" + chunks + data


@pytest.fixture(scope="module")
def media_org(deployment: Deployment) -> tuple[OrgHandle, Browser, list[dict[str, Any]], str]:
    """One BYOK org that made a call of every unit kind (and a chat call), and its admin."""
    org = deployment.new_org()
    sdk = client(deployment, org.token)
    sdk.images.generate(model="dall-e-3", prompt="a square", size="1792x1024", quality="hd")
    sdk.images.generate(
        model="gpt-image-1", prompt="a circle", size="1024x1024", quality="low", n=2
    )
    sdk.images.generate(model="gpt-image-1", prompt="a line", size="1024x1024", quality="low")
    sdk.audio.transcriptions.create(model="whisper-1", file=("a.wav", wav(120)))  # 12 s
    sdk.audio.transcriptions.create(model="whisper-1", file=("b.wav", wav(35)))  # 3.5 s
    sdk.audio.speech.create(model="tts-1", voice="alloy", input=SPOKEN, response_format="wav")
    sdk.moderations.create(input=["one", "two", "three"])
    sdk.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}]
    )
    email = unique("admin")
    add_user(deployment.context, org.id, email, Role.ADMIN)
    admin = Browser(httpx.Client(base_url=deployment.instance.base_url, timeout=30))
    admin.sign_in(email)
    rows = ledger(deployment, org.id)
    assert len(rows) == 8
    days = sorted({r["started_at"].date() for r in rows})
    since, until = days[0] - timedelta(days=1), days[-1] + timedelta(days=1)
    return org, admin, rows, f"since={since.isoformat()}&until={until.isoformat()}"


def totals(rows: list[dict[str, Any]], kind: str) -> int:
    return sum(int(r["units"]) for r in rows if r["units_kind"] == kind)


def test_the_usage_page_shows_each_kind_of_unit_with_its_variant(
    media_org: tuple[OrgHandle, Browser, list[dict[str, Any]], str],
) -> None:
    org, admin, rows, range_ = media_org
    page = admin.get(f"/orgs/{org.id}/usage?{range_}")
    assert page.status_code == 200
    text = page.text
    # The total, and the per-model table: images per size/quality, audio in minutes
    # (15.5 s = 15,500 ms is 0.258333… min: shown to the hundredth, marked as rounded).
    assert "1 image · 1792x1024/hd" in text
    assert "3 images · 1024x1024/low" in text
    assert "≈0.26 audio min" in text
    assert "12 characters" in text and "3 inputs" in text
    assert totals(rows, "audio_ms") == 15_500 and totals(rows, "characters") == len(SPOKEN)
    model_table = text.split('id="per-model"', 1)[1]
    for model in ("dall-e-3", "gpt-image-1", "whisper-1", "tts-1", "omni-moderation-latest"):
        assert f">{model}<" in model_table


def test_the_usage_csv_and_json_add_up_to_the_ledger_rows(
    media_org: tuple[OrgHandle, Browser, list[dict[str, Any]], str],
) -> None:
    org, admin, rows, range_ = media_org
    csv_rows = list(
        csv.DictReader(io.StringIO(admin.get(f"/orgs/{org.id}/usage.csv?{range_}").text))
    )
    header = list(csv_rows[0])
    assert header[:9] == [
        "group",
        "key",
        "label",
        "requests",
        "tokens",
        "list_cost_usd",
        "charged_usd",
        "list_cost_micros",
        "charged_micros",
    ]
    assert header[9:] == ["images", "audio_ms", "characters", "inputs", "units"]
    total = next(r for r in csv_rows if r["group"] == "total")
    for kind in ("images", "audio_ms", "characters", "inputs"):
        assert int(total[kind]) == totals(rows, kind)
        per_model = sum(int(r[kind]) for r in csv_rows if r["group"] == "model")
        per_day = sum(int(r[kind]) for r in csv_rows if r["group"] == "day")
        assert per_model == per_day == totals(rows, kind)
    assert int(total["list_cost_micros"]) == sum(r["list_cost_micros"] or 0 for r in rows)
    whisper = next(r for r in csv_rows if r["group"] == "model" and r["key"] == "whisper-1")
    assert (whisper["audio_ms"], whisper["units"]) == ("15500", "≈0.26 audio min")

    body = admin.api("GET", f"/api/orgs/{org.id}/usage?{range_}").json()
    image_model = next(m for m in body["models"] if m["key"] == "gpt-image-1")
    assert image_model["images"] == 3
    assert image_model["units"] == [{"kind": "images", "variant": "1024x1024/low", "count": 3}]
    assert body["total"]["inputs"] == 3 and body["total"]["requests"] == len(rows)


def test_the_calls_page_names_each_calls_endpoint_and_units(
    media_org: tuple[OrgHandle, Browser, list[dict[str, Any]], str],
) -> None:
    org, admin, rows, _ = media_org
    page = admin.get(f"/orgs/{org.id}/calls").text
    cells = page.split("<tbody>", 1)[1]
    for endpoint in ("images", "transcriptions", "speech", "moderations", "chat"):
        assert f'<span class="muted small endpoint">{endpoint}</span>' in cells
    for shown in ("2 images · 1024x1024/low", "0.2 audio min", "12 characters", "3 inputs"):
        assert shown in cells
    assert "≈0.06 audio min" in cells  # 3.5 s = 0.058333… min

    exported = list(csv.DictReader(io.StringIO(admin.get(f"/orgs/{org.id}/calls.csv").text)))
    assert list(exported[0])[-3:] == ["units_kind", "units", "units_variant"]
    by_request = {r["upstream_request_id"]: r for r in exported}
    for row in rows:
        line = by_request[row["upstream_request_id"]]
        assert line["units_kind"] == (row["units_kind"] or "")
        assert line["units"] == ("" if row["units"] is None else str(row["units"]))
        assert line["units_variant"] == (row["units_variant"] or "")
    api = admin.api("GET", f"/api/orgs/{org.id}/calls").json()
    calls = api["data"] if isinstance(api, dict) else api
    speech = next(c for c in calls if c["endpoint"] == "speech")
    assert (speech["units_kind"], speech["units"]) == ("characters", len(SPOKEN))


def test_the_usage_command_exports_the_units_of_each_row(
    deployment: Deployment, media_org: tuple[OrgHandle, Browser, list[dict[str, Any]], str]
) -> None:
    org, _, rows, _ = media_org
    as_json = deployment.instance.cli("usage", org.id)
    assert as_json.returncode == 0, as_json.stderr
    records = json.loads(as_json.stdout)
    assert [(r["units_kind"], r["units"], r["units_variant"]) for r in records] == [
        (r["units_kind"], r["units"], r["units_variant"]) for r in rows
    ]
    as_csv = deployment.instance.cli("usage", org.id, "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    lines = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    for kind in ("images", "audio_ms", "characters", "inputs"):
        assert sum(int(r["units"]) for r in lines if r["units_kind"] == kind) == totals(rows, kind)
