"""Images, audio and moderations through ChatGrid: the official SDK and the simulator.

Each call is one ledger row priced by its units (images by size and quality,
audio by the minute, speech by characters, moderations free), compared with
what the simulator recorded it did.
"""

from __future__ import annotations

import struct

import openai
import pytest

from chatgrid.admin import orgs
from chatgrid.identity.models import BillingMode
from chatgrid.limits.policy import OrgPolicy
from tests.support.deployment import Deployment, OrgHandle
from tests.support.ledger_checks import ledger, records_by_id
from tests.support.shared_orgs import client, shared_org


def wav(seconds_tenths: int, rate: int = 16_000) -> bytes:
    """A silent 16-bit mono WAV of ``seconds_tenths`` tenths of a second."""
    data = b"\0" * (rate * 2 * seconds_tenths // 10)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data))
    return b"RIFF" + struct.pack("<I", 4 + len(chunks) + len(data)) + b"WAVE" + chunks + data


def org_for(deployment: Deployment, mode: BillingMode) -> OrgHandle:
    return deployment.new_org() if mode is BillingMode.BYOK else shared_org(deployment)


def only_entry(deployment: Deployment, org: OrgHandle) -> tuple[dict, dict]:  # type: ignore[type-arg]
    [entry] = ledger(deployment, org.id)
    return entry, records_by_id(deployment)[entry["upstream_request_id"]]


def assert_priced(entry: dict, mode: BillingMode, list_micros: int) -> None:  # type: ignore[type-arg]
    assert entry["list_cost_micros"] == list_micros and entry["outcome"] == "ok"
    if mode is BillingMode.BYOK:
        assert entry["charged_micros"] == 0
    else:
        assert entry["charged_micros"] >= list_micros


MODES = [BillingMode.BYOK, BillingMode.SHARED]


@pytest.mark.parametrize("mode", MODES)
def test_images_are_ledgered_per_image_by_size_and_quality(
    deployment: Deployment, mode: BillingMode
) -> None:
    org = org_for(deployment, mode)
    reply = client(deployment, org.token).images.generate(
        model="dall-e-3", prompt="a red square", size="1792x1024", quality="hd", n=1
    )
    assert reply.data and len(reply.data) == 1
    entry, record = only_entry(deployment, org)
    assert record["units"] == {"images": 1, "size": "1792x1024", "quality": "hd"}
    assert (entry["units_kind"], entry["units"]) == ("images", 1)
    assert entry["units_variant"] == "1792x1024/hd" and entry["endpoint"] == "images"
    assert_priced(entry, mode, 120_000)  # $0.12 an image


def test_several_gpt_image_1_images_cost_n_times_the_price(deployment: Deployment) -> None:
    org = deployment.new_org()
    reply = client(deployment, org.token).images.generate(
        model="gpt-image-1", prompt="a blue circle", size="1024x1024", quality="low", n=3
    )
    assert len(reply.data or []) == 3
    entry, record = only_entry(deployment, org)
    assert record["units"]["images"] == entry["units"] == 3
    assert entry["list_cost_micros"] == 3 * 11_000


@pytest.mark.parametrize("mode", MODES)
def test_a_transcription_is_ledgered_by_its_audio_duration(
    deployment: Deployment, mode: BillingMode
) -> None:
    org = org_for(deployment, mode)
    reply = client(deployment, org.token).audio.transcriptions.create(
        model="whisper-1", file=("speech.wav", wav(35))
    )
    assert reply.text
    entry, record = only_entry(deployment, org)
    assert record["units"]["duration_ms"] == entry["units"] == 3_500
    assert entry["units_kind"] == "audio_ms" and entry["endpoint"] == "transcriptions"
    assert_priced(entry, mode, 350)  # 3.5 s at $0.006 a minute


def test_a_compressed_file_is_ledgered_by_the_seconds_the_upstream_heard(
    deployment: Deployment,
) -> None:
    org = deployment.new_org()
    audio = b"ID3" + b"\x11" * 47_997  # 48,000 bytes: 3 s at the simulator's rate
    client(deployment, org.token).audio.transcriptions.create(
        model="whisper-1", file=("speech.mp3", audio)
    )
    entry, record = only_entry(deployment, org)
    assert record["units"]["audio_seconds"] == 3
    assert entry["units"] == 3_000 and entry["list_cost_micros"] == 300


@pytest.mark.parametrize("mode", MODES)
def test_speech_is_ledgered_by_the_characters_of_its_input(
    deployment: Deployment, mode: BillingMode
) -> None:
    org = org_for(deployment, mode)
    text = "Thirty characters of speech.!!"
    audio = client(deployment, org.token).audio.speech.create(
        model="tts-1-hd", voice="alloy", input=text, response_format="wav"
    )
    assert audio.content[:4] == b"RIFF"
    entry, record = only_entry(deployment, org)
    assert record["units"]["characters"] == entry["units"] == len(text) == 30
    assert entry["units_kind"] == "characters" and entry["endpoint"] == "speech"
    assert_priced(entry, mode, 900)  # 30 characters at $30 per 1M


@pytest.mark.parametrize("mode", MODES)
def test_moderations_are_free_but_ledgered(deployment: Deployment, mode: BillingMode) -> None:
    org = org_for(deployment, mode)
    reply = client(deployment, org.token).moderations.create(input=["hello", "I will kill it"])
    assert [r.flagged for r in reply.results] == [False, True]
    entry, record = only_entry(deployment, org)
    assert record["units"] == {"inputs": 2}
    assert entry["model"] == "omni-moderation-latest" and entry["units"] == 2
    assert entry["list_cost_micros"] == 0 and entry["charged_micros"] == 0


def test_moderations_count_against_rate_limits(deployment: Deployment) -> None:
    org = deployment.new_org()
    orgs.set_policy(deployment.context, org.id, OrgPolicy(member_rpm=2), actor="test")
    sdk = client(deployment, org.token)
    for _ in range(2):
        sdk.moderations.create(input="hello")
    with pytest.raises(openai.RateLimitError):
        sdk.moderations.create(input="hello")
    assert len(ledger(deployment, org.id)) == 2


def test_a_media_model_not_allowed_is_refused_before_any_call(deployment: Deployment) -> None:
    org = deployment.new_org()
    policy = OrgPolicy(allowed_models=frozenset({"dall-e-2"}))
    orgs.set_policy(deployment.context, org.id, policy, actor="test")
    sdk = client(deployment, org.token)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        sdk.images.generate(model="dall-e-3", prompt="no")
    assert caught.value.code == "model_not_allowed"
    with pytest.raises(openai.PermissionDeniedError):
        sdk.audio.speech.create(model="tts-1", voice="alloy", input="no")
    assert ledger(deployment, org.id) == []


def test_the_reservation_refuses_images_beyond_the_allowance(deployment: Deployment) -> None:
    org = shared_org(deployment, allowance_micros=100_000)
    sdk = client(deployment, org.token)
    with pytest.raises(openai.APIStatusError) as caught:  # $0.12 > $0.10 left
        sdk.images.generate(model="dall-e-3", prompt="dear", size="1792x1024", quality="hd")
    assert caught.value.status_code in (402, 429)
    assert ledger(deployment, org.id) == []
    sdk.audio.speech.create(model="tts-1", voice="alloy", input="cheap")  # 75 micro-dollars
    assert len(ledger(deployment, org.id)) == 1
