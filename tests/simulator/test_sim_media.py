"""Images, audio and moderations over real HTTP with OpenAI's SDK, checked against its spec."""

from __future__ import annotations

import base64
import io
import struct
import wave
from collections.abc import Callable
from typing import Any

import httpx
import openai
import orjson
import pytest
from openai.types import (
    ModerationImageURLInputParam,
    ModerationMultiModalInputParam,
    ModerationTextInputParam,
)

from chatgrid.simulator.audio import wav_header
from chatgrid.simulator.testing import TEST_KEY, RunningSimulator, bearer
from chatgrid.simulator.tokens import count_text

Validate = Callable[[str, Any], None]
PROMPT = "A cute baby sea otter"


@pytest.fixture
def sdk(live: RunningSimulator) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{live.base_url}/v1", api_key=TEST_KEY, max_retries=0)


def last_record(live: RunningSimulator) -> dict[str, Any]:
    record: dict[str, Any] = live.app.state.records.render_dicts()[-1]
    return record


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def wav_file(seconds: float, rate: int = 16_000) -> bytes:
    data = b"\0\0" * int(rate * seconds)
    return wav_header(len(data), rate) + data


# Images


def test_gpt_image_returns_pngs_in_base64_with_token_usage(
    sdk: openai.OpenAI, live: RunningSimulator, openapi_validate: Validate
) -> None:
    raw = sdk.images.with_raw_response.generate(
        model="gpt-image-1", prompt=PROMPT, size="1536x1024", quality="high", n=2
    )
    body = orjson.loads(raw.content)
    openapi_validate("ImagesResponse", body)
    assert len(body["data"]) == 2
    assert png_size(base64.b64decode(body["data"][0]["b64_json"])) == (1536, 1024)
    assert (body["size"], body["quality"], body["output_format"]) == ("1536x1024", "high", "png")
    prompt_tokens = count_text(PROMPT)
    assert body["usage"]["input_tokens"] == prompt_tokens
    assert body["usage"]["output_tokens"] == 2 * 6240
    assert body["usage"]["total_tokens"] == prompt_tokens + 2 * 6240
    record = last_record(live)
    assert record["units"] == {"images": 2, "size": "1536x1024", "quality": "high"}
    assert record["usage"]["completion_tokens"] == 2 * 6240
    auto = sdk.images.generate(model="gpt-image-1", prompt=PROMPT)
    assert (auto.size, auto.quality) == ("1024x1024", "medium")
    assert auto.usage is not None and auto.usage.output_tokens == 1056


def test_dall_e_answers_urls_or_base64_at_its_own_sizes(
    sdk: openai.OpenAI, live: RunningSimulator, openapi_validate: Validate
) -> None:
    raw = sdk.images.with_raw_response.generate(
        model="dall-e-3", prompt=PROMPT, size="1792x1024", quality="hd"
    )
    body = orjson.loads(raw.content)
    openapi_validate("ImagesResponse", body)
    (image,) = body["data"]
    assert image["revised_prompt"] == PROMPT
    assert image["url"].startswith("data:image/png;base64,")
    assert png_size(base64.b64decode(image["url"].split(",", 1)[1])) == (1792, 1024)
    assert "usage" not in body
    assert last_record(live)["units"] == {"images": 1, "size": "1792x1024", "quality": "hd"}
    small = sdk.images.generate(
        model="dall-e-2", prompt=PROMPT, size="256x256", n=3, response_format="b64_json"
    )
    assert small.data is not None and len(small.data) == 3
    assert png_size(base64.b64decode(small.data[0].b64_json or "")) == (256, 256)
    assert last_record(live)["units"] == {"images": 3, "size": "256x256", "quality": "standard"}
    assert last_record(live)["usage"] is None


@pytest.mark.parametrize(
    ("fields", "status", "param"),
    [
        ({"model": "dall-e-2", "prompt": PROMPT, "size": "1792x1024"}, 400, "size"),
        ({"model": "dall-e-3", "prompt": PROMPT, "n": 2}, 400, "n"),
        ({"model": "dall-e-2", "prompt": PROMPT, "quality": "hd"}, 400, "quality"),
        (
            {"model": "gpt-image-1", "prompt": PROMPT, "response_format": "url"},
            400,
            "response_format",
        ),
        ({"model": "dall-e-2"}, 400, "prompt"),
        ({"model": "gpt-4o", "prompt": PROMPT}, 400, "model"),
        ({"model": "dall-e-9", "prompt": PROMPT}, 404, None),
        ({"model": "gpt-image-1", "prompt": PROMPT, "stream": True}, 400, "stream"),
    ],
)
def test_bad_image_requests_get_openai_errors(
    live: RunningSimulator,
    openapi_validate: Validate,
    fields: dict[str, Any],
    status: int,
    param: str | None,
) -> None:
    url = f"{live.base_url}/v1/images/generations"
    response = httpx.post(url, json=fields, headers=bearer())
    assert response.status_code == status
    openapi_validate("ErrorResponse", response.json())
    assert response.json()["error"]["param"] == param
    if status == 404:
        assert response.json()["error"]["code"] == "model_not_found"


# Transcriptions


def test_whisper_reads_the_wav_duration_in_every_format(
    sdk: openai.OpenAI, live: RunningSimulator, openapi_validate: Validate
) -> None:
    audio = ("hello.wav", wav_file(2.5), "audio/wav")
    raw = sdk.audio.transcriptions.with_raw_response.create(file=audio, model="whisper-1")
    body = orjson.loads(raw.content)
    openapi_validate("CreateTranscriptionResponseJson", body)
    assert len(body["text"].split()) == 4
    assert body["usage"] == {"type": "duration", "seconds": 3}
    record = last_record(live)
    assert record["units"] == {"audio_seconds": 3, "duration_ms": 2500}
    assert record["body"] == {
        "model": "whisper-1",
        "file": {"filename": "hello.wav", "bytes": len(audio[1])},
    }
    verbose = sdk.audio.transcriptions.with_raw_response.create(
        file=audio, model="whisper-1", response_format="verbose_json"
    )
    verbose_body = orjson.loads(verbose.content)
    openapi_validate("CreateTranscriptionResponseVerboseJson", verbose_body)
    assert verbose_body["duration"] == 2.5
    assert verbose_body["text"] == body["text"]
    text = sdk.audio.transcriptions.create(file=audio, model="whisper-1", response_format="text")
    assert text.strip() == body["text"]
    srt = sdk.audio.transcriptions.create(file=audio, model="whisper-1", response_format="srt")
    assert "00:00:00,000 --> 00:00:02,500" in srt


def test_gpt_4o_transcribe_reports_tokens_and_refuses_verbose_json(
    sdk: openai.OpenAI, live: RunningSimulator, openapi_validate: Validate
) -> None:
    other = ("clip.mp3", b"\xff\xf3" * 16_000, "audio/mpeg")  # 32,000 bytes: two seconds
    raw = sdk.audio.transcriptions.with_raw_response.create(
        file=other, model="gpt-4o-transcribe", prompt="Names: Ada"
    )
    body = orjson.loads(raw.content)
    openapi_validate("CreateTranscriptionResponseJson", body)
    prompt = count_text("Names: Ada")
    assert body["usage"] == {
        "type": "tokens",
        "input_tokens": 20 + prompt,
        "input_token_details": {"text_tokens": prompt, "audio_tokens": 20},
        "output_tokens": 4,
        "total_tokens": 20 + prompt + 4,
    }
    assert last_record(live)["units"] == {"audio_seconds": 2, "duration_ms": 2000}
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.audio.transcriptions.create(
            file=other, model="gpt-4o-mini-transcribe", response_format="verbose_json"
        )
    assert refused.value.param == "response_format"
    with pytest.raises(openai.NotFoundError) as unknown:
        sdk.audio.transcriptions.create(file=other, model="whisper-9")
    with pytest.raises(openai.BadRequestError) as streamed:
        sdk.audio.transcriptions.create(file=other, model="gpt-4o-transcribe", stream=True)
    assert streamed.value.param == "stream"
    assert unknown.value.code == "model_not_found"


def test_a_transcription_without_a_file_or_a_form_is_refused(
    live: RunningSimulator, openapi_validate: Validate
) -> None:
    url = f"{live.base_url}/v1/audio/transcriptions"
    no_file = httpx.post(
        url, data={"model": "whisper-1"}, files={"x": ("a", b"1")}, headers=bearer()
    )
    assert no_file.status_code == 400
    assert no_file.json()["error"]["param"] == "file"
    as_json = httpx.post(url, json={"model": "whisper-1"}, headers=bearer())
    assert as_json.status_code == 400
    openapi_validate("ErrorResponse", as_json.json())


# Speech


def test_speech_returns_playable_wav_and_mp3(sdk: openai.OpenAI, live: RunningSimulator) -> None:
    text = "The quick brown fox jumped over the lazy dog."  # 45 characters: three seconds
    wav = sdk.audio.speech.create(model="tts-1", voice="alloy", input=text, response_format="wav")
    assert wav.response.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(wav.content)) as played:
        assert (played.getframerate(), played.getnchannels(), played.getsampwidth()) == (
            24000,
            1,
            2,
        )
        assert played.getnframes() == 3 * 24000
    assert last_record(live)["units"] == {"characters": 45, "audio_ms": 3000}
    mp3 = sdk.audio.speech.create(model="tts-1-hd", voice="nova", input=text, speed=2.0)
    assert mp3.response.headers["content-type"] == "audio/mpeg"
    assert mp3.content[:2] == b"\xff\xf3"
    assert last_record(live)["units"] == {"characters": 45, "audio_ms": 1500}
    sdk.audio.speech.create(
        model="gpt-4o-mini-tts", voice="coral", input=text, instructions="Cheerful"
    )
    assert last_record(live)["usage"]["prompt_tokens"] == count_text(text)


def test_bad_speech_requests_get_openai_errors(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as voice:
        sdk.audio.speech.create(model="tts-1", voice="robot", input="Hi")
    assert voice.value.param == "voice"
    with pytest.raises(openai.BadRequestError) as long_input:
        sdk.audio.speech.create(model="tts-1", voice="alloy", input="x" * 4097)
    assert long_input.value.param == "input"
    with pytest.raises(openai.NotFoundError):
        sdk.audio.speech.create(model="tts-9", voice="alloy", input="Hi")
    with pytest.raises(openai.BadRequestError) as streamed:
        sdk.audio.speech.create(model="tts-1", voice="alloy", input="Hi", stream_format="sse")
    assert streamed.value.param == "stream_format"


# Moderations


def test_moderation_flags_follow_the_keyword_list(
    sdk: openai.OpenAI, live: RunningSimulator, openapi_validate: Validate
) -> None:
    raw = sdk.moderations.with_raw_response.create(
        input=["I will kill the process", "What a lovely day"]
    )
    body = orjson.loads(raw.content)
    openapi_validate("CreateModerationResponse", body)
    assert body["model"] == "omni-moderation-latest"
    flagged, clean = body["results"]
    assert flagged["flagged"] and flagged["categories"]["violence"]
    assert not flagged["categories"]["sexual"]
    assert not clean["flagged"] and not any(clean["categories"].values())
    assert last_record(live)["units"] == {"inputs": 2}
    single = sdk.moderations.create(model="text-moderation-latest", input="gore everywhere")
    assert single.results[0].categories.violence_graphic
    assert single.results[0].categories.violence
    image: ModerationImageURLInputParam = {
        "type": "image_url",
        "image_url": {"url": "https://example.com/a.png"},
    }
    text: ModerationTextInputParam = {"type": "text", "text": "harmless"}
    multimodal: list[ModerationMultiModalInputParam] = [text, image]
    parts = sdk.moderations.create(input=multimodal)
    assert len(parts.results) == 1
    assert parts.results[0].category_applied_input_types.violence == ["text", "image"]
    with pytest.raises(openai.BadRequestError):
        sdk.moderations.create(
            model="text-moderation-latest",
            input=[image],
        )


# Shared behaviour


def test_faults_directives_and_auth_apply_to_every_new_endpoint(
    sdk: openai.OpenAI, live: RunningSimulator
) -> None:
    with pytest.raises(openai.InternalServerError):
        sdk.images.generate(model="dall-e-2", prompt="otter [sim:500]")
    with pytest.raises(openai.RateLimitError):
        sdk.moderations.create(input="fine [sim:429]")
    with pytest.raises(openai.InternalServerError):
        sdk.audio.speech.create(model="tts-1", voice="alloy", input="Hi [sim:503]")
    with pytest.raises(openai.InternalServerError):
        sdk.audio.transcriptions.create(
            file=("a.wav", wav_file(1), "audio/wav"), model="whisper-1", prompt="[sim:500]"
        )
    httpx.post(f"{live.base_url}/_sim/faults", json={"status": 429, "count": 1})
    with pytest.raises(openai.RateLimitError):
        sdk.images.generate(model="dall-e-2", prompt=PROMPT)
    with pytest.raises(openai.APIConnectionError):
        sdk.moderations.create(input="fine [sim:cut]")
    keyless = openai.OpenAI(base_url=f"{live.base_url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        keyless.moderations.create(input="fine")
    statuses = [record["status"] for record in live.app.state.records.render_dicts()]
    assert statuses == [500, 429, 503, 500, 429, None, 401]
    assert live.app.state.records.render_dicts()[-2]["cut"] is True
    listed = {model.id for model in sdk.models.list()}
    assert {"gpt-image-1", "whisper-1", "tts-1", "omni-moderation-latest"} <= listed
