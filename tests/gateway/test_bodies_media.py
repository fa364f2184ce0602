"""Bodies of the endpoints priced by units: what they bound before the call."""

from __future__ import annotations

import struct

import pytest

from chatgrid.errors import InvalidRequest
from chatgrid.gateway.bodies_audio import (
    prepare_transcription,
    transcription_units,
    wav_duration_ms,
)
from chatgrid.gateway.bodies_media import prepare_images, prepare_moderations, prepare_speech
from chatgrid.gateway.bodies_responses import prepare_responses
from chatgrid.ledger.units import AUDIO_MS, Units

BOUNDARY = b"xyz"


def form(model: str, file: bytes, filename: str = "a.mp3") -> tuple[bytes, bytes]:
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="model"\r\n\r\n%s\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n%s\r\n--xyz--\r\n"
    ) % (model.encode(), filename.encode(), file)
    return body, b"multipart/form-data; boundary=xyz"


def wav(data_bytes: int, byte_rate: int = 32_000) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, byte_rate // 2, byte_rate, 2, 16)
    chunks = b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", data_bytes)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks) + data_bytes) + b"WAVE" + chunks


def test_a_wav_files_duration_is_read_from_its_header_rounded_up() -> None:
    assert wav_duration_ms(wav(32_000) + b"\0" * 32_000) == 1_000
    assert wav_duration_ms(wav(33) + b"\0" * 33) == 2  # 1.03 ms → 2
    assert wav_duration_ms(b"ID3 not a wav") is None


def test_any_other_file_is_bounded_by_its_size_and_narrowed_by_the_answer() -> None:
    body, content_type = form("whisper-1", b"\x01" * 5_000)
    prepared = prepare_transcription(body, content_type)
    assert prepared.units == Units(AUDIO_MS, 5_000) and prepared.upstream_body == body
    assert prepared.content_type == content_type.decode()
    answer = b'{"text":"hi","usage":{"type":"duration","seconds":3}}'
    assert transcription_units(prepared, answer) == Units(AUDIO_MS, 3_000)
    lying = b'{"text":"hi","usage":{"type":"duration","seconds":3000}}'
    assert transcription_units(prepared, lying) == Units(AUDIO_MS, 5_000)  # never above the bound


def test_a_transcription_needs_a_model_a_file_and_multipart() -> None:
    with pytest.raises(InvalidRequest):
        prepare_transcription(*form("", b"x"))
    with pytest.raises(InvalidRequest):
        prepare_transcription(b"{}", b"application/json")


def test_images_speech_and_moderations_carry_their_units() -> None:
    images = prepare_images(b'{"prompt":"p","n":2,"model":"dall-e-3","quality":"hd"}', "u1")
    assert images.units is not None and images.units.count == 2
    assert images.units.variant == "1024x1024/hd" and images.request["user"] == "u1"
    speech = prepare_speech(b'{"model":"tts-1","voice":"alloy","input":"hello"}')
    assert speech.units is not None and speech.units.count == 5
    moderation = prepare_moderations(b'{"input":["a","b","c"]}')
    assert moderation.model == "omni-moderation-latest"
    assert moderation.units is not None and moderation.units.count == 3
    with pytest.raises(InvalidRequest):
        prepare_images(b'{"prompt":"p","n":11}', "u1")


def test_a_responses_body_is_checked_and_tagged() -> None:
    prepared = prepare_responses(b'{"model":"gpt-4o","input":"hi","stream":true}', "u1")
    assert prepared.stream and prepared.endpoint == "responses"
    assert prepared.request["user"] == "u1"
    with pytest.raises(InvalidRequest):
        prepare_responses(b'{"model":"gpt-4o","input":3}', "u1")
    with pytest.raises(InvalidRequest):
        prepare_responses(b'{"model":"gpt-4o","input":"x","max_output_tokens":0}', "u1")
