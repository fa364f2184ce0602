"""``/v1/audio/transcriptions`` and ``/v1/audio/speech``, with durations a test can predict.

Transcription: the upload's duration is read from its WAV header (data bytes
÷ byte rate), or for any other file taken as 16,000 bytes a second (128 kbit/s
audio); the text is ``max(1, whole seconds × 2)`` words (or
``[sim:tokens=N]`` in ``prompt``) chosen by the file's digest. ``whisper-1``
reports ``usage: {"type": "duration", "seconds": ceil(duration)}``; the
gpt-4o models report tokens: audio = ceil(duration ÷ 0.1 s), text =
``count_text(prompt)``, output = the words. Speech lasts ``len(input) ÷ 15``
seconds at ``speed`` 1; wav and pcm are real 24 kHz 16-bit silence, mp3 real
silent MPEG frames, and opus, aac and flac only carry their format's
signature. The record's ``units`` hold the seconds and characters.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from collections.abc import Iterator
from typing import Final

import orjson

from chatgrid.simulator import errors, params, tokens
from chatgrid.simulator.catalogue import MODEL_IDS, SPEECH_MODELS, TRANSCRIPTION_MODELS
from chatgrid.simulator.directives import Directives
from chatgrid.simulator.multipart import FormFile, parse_form
from chatgrid.simulator.records import RequestRecord, Usage
from chatgrid.simulator.wire import JSON_TYPE

BYTES_PER_SECOND: Final = 16_000
WORDS_PER_SECOND: Final = 2
AUDIO_TOKEN_MS: Final = 100
CHARACTERS_PER_SECOND: Final = 15
SAMPLE_RATE: Final = 24_000
MAX_SPEECH_INPUT: Final = 4096
_TEXT_TYPE: Final = (b"content-type", b"text/plain; charset=utf-8")
_WHISPER_FORMATS: Final = ("json", "text", "srt", "verbose_json", "vtt")
_GPT_FORMATS: Final = ("json", "text")
_VOICES: Final = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer",
    "verse", "marin", "cedar",
)  # fmt: skip
_SPEECH_TYPES: Final = {
    "mp3": b"audio/mpeg",
    "opus": b"audio/opus",
    "aac": b"audio/aac",
    "flac": b"audio/flac",
    "wav": b"audio/wav",
    "pcm": b"audio/pcm",
}
_SIGNATURES: Final = {"opus": b"OggS", "aac": b"\xff\xf1", "flac": b"fLaC"}
#: A silent MPEG-2 Layer III frame: 24 kHz mono at 32 kbit/s, 96 bytes, 24 ms.
_MP3_FRAME: Final = b"\xff\xf3\x44\xc0" + b"\0" * 92
_MP3_FRAME_MS: Final = 24


def _no_events(
    directives: Directives, record: RequestRecord
) -> tuple[Iterator[tuple[bytes, int]], int]:
    raise NotImplementedError


class Transcription:
    __slots__ = ("duration_ms", "file", "model", "prompt", "response_format")

    stream = False
    events = staticmethod(_no_events)

    def __init__(self, model: str, file: FormFile, prompt: str, response_format: str) -> None:
        self.model = model
        self.file = file
        self.prompt = prompt
        self.response_format = response_format
        self.duration_ms = duration_ms(file.content)

    def directive_text(self) -> str:
        return self.prompt

    def reply(
        self, directives: Directives, record: RequestRecord
    ) -> tuple[bytes, tuple[bytes, bytes]]:
        seconds = self.duration_ms / 1000
        count = directives.tokens or max(1, int(seconds) * WORDS_PER_SECOND)
        seed = hashlib.blake2b(self.file.content, digest_size=16).digest()
        text = "".join(tokens.reply_words(seed, 0, count))
        billed = math.ceil(seconds)
        record.units = {"audio_seconds": billed, "duration_ms": self.duration_ms}
        if self.model == "whisper-1":
            usage: dict[str, object] = {"type": "duration", "seconds": billed}
        else:
            audio = -(-self.duration_ms // AUDIO_TOKEN_MS)
            prompt = tokens.count_text(self.prompt)
            record.usage = Usage(audio + prompt, count, 0)
            usage = {
                "type": "tokens",
                "input_tokens": audio + prompt,
                "input_token_details": {"text_tokens": prompt, "audio_tokens": audio},
                "output_tokens": count,
                "total_tokens": audio + prompt + count,
            }
        kind = self.response_format
        if kind == "text":
            return text.encode() + b"\n", _TEXT_TYPE
        if kind in ("srt", "vtt"):
            return _subtitles(kind, text, seconds).encode(), _TEXT_TYPE
        body: dict[str, object] = {"text": text, "usage": usage}
        if kind == "verbose_json":
            segment = {
                "id": 0, "seek": 0, "start": 0.0, "end": seconds, "text": text,
                "tokens": list(range(50364, 50364 + count)), "temperature": 0.0,
                "avg_logprob": -0.25, "compression_ratio": 1.2, "no_speech_prob": 0.01,
            }  # fmt: skip
            body = {"task": "transcribe", "language": "english", "duration": seconds,
                    "text": text, "segments": [segment], "usage": usage}  # fmt: skip
        return orjson.dumps(body), JSON_TYPE


def _timestamp(seconds: float, comma: bool) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    stamp = f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"
    return stamp.replace(".", ",") if comma else stamp


def _subtitles(kind: str, text: str, seconds: float) -> str:
    span = f"{_timestamp(0, kind == 'srt')} --> {_timestamp(seconds, kind == 'srt')}"
    return f"1\n{span}\n{text}\n" if kind == "srt" else f"WEBVTT\n\n{span}\n{text}\n"


def duration_ms(content: bytes) -> int:
    """A WAV file's length from its header; any other file's at 16,000 bytes a second."""
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WAVE":
        byte_rate = data_size = 0
        offset = 12
        while offset + 8 <= len(content):
            kind, size = (
                content[offset : offset + 4],
                struct.unpack_from("<I", content, offset + 4)[0],
            )
            if kind == b"fmt " and size >= 16:
                byte_rate = struct.unpack_from("<I", content, offset + 16)[0]
            elif kind == b"data":
                data_size = min(size, len(content) - offset - 8)
                break
            offset += 8 + size + (size & 1)
        if byte_rate:
            return data_size * 1000 // byte_rate
    return len(content) * 1000 // BYTES_PER_SECOND


_BOUNDARY_RE: Final = re.compile(rb'boundary="?([^";\s]+)"?', re.IGNORECASE)


def parse_transcription(record: RequestRecord) -> Transcription:
    """Read the multipart form from the record's raw body and content-type header."""
    content_type = b""
    for line in record.headers.split(b"\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-type":
            content_type = value.strip()
    match = _BOUNDARY_RE.search(content_type)
    if not content_type.lower().startswith(b"multipart/form-data") or match is None:
        shown = content_type.decode("latin-1") or "none"
        raise errors.invalid_request(
            f"Invalid Content-Type header ({shown}), expected multipart/form-data."
        )
    fields, files = parse_form(record.body, match.group(1))
    record.body = orjson.dumps({**fields, **{k: f.describe() for k, f in files.items()}})
    record.body_valid = True
    upload = files.get("file")
    if upload is None:
        raise errors.missing_parameter("file")
    model = fields.get("model")
    if model is None:
        raise errors.missing_parameter("model")
    if model not in TRANSCRIPTION_MODELS:
        if model in MODEL_IDS:
            raise errors.invalid_value("model", model, tuple(sorted(TRANSCRIPTION_MODELS)))
        raise errors.model_not_found(model)
    if fields.get("stream") == "true":
        raise not_simulated("stream")
    response_format = fields.get("response_format", "json")
    allowed = _WHISPER_FORMATS if model == "whisper-1" else _GPT_FORMATS
    if response_format not in allowed:
        if response_format in _WHISPER_FORMATS:
            raise errors.invalid_request(
                f"response_format '{response_format}' is not compatible with model '{model}'. "
                "Use 'json' or 'text' instead.",
                "response_format",
                "unsupported_value",
            )
        raise errors.invalid_value("response_format", response_format, _WHISPER_FORMATS)
    if not upload.content:
        raise errors.invalid_request("The audio file is empty.", "file", "invalid_value")
    return Transcription(model, upload, fields.get("prompt", ""), response_format)


class Speech:
    __slots__ = ("input", "model", "response_format", "speed", "voice")

    stream = False
    events = staticmethod(_no_events)

    def __init__(self, model: str, text: str, voice: str) -> None:
        self.model = model
        self.input = text
        self.voice = voice
        self.response_format = "mp3"
        self.speed = 1.0

    def directive_text(self) -> str:
        return self.input

    def reply(
        self, directives: Directives, record: RequestRecord
    ) -> tuple[bytes, tuple[bytes, bytes]]:
        millis = round(len(self.input) * 1000 / (CHARACTERS_PER_SECOND * self.speed))
        record.units = {"characters": len(self.input), "audio_ms": millis}
        if self.model == "gpt-4o-mini-tts":
            record.usage = Usage(tokens.count_text(self.input), -(-millis // AUDIO_TOKEN_MS), 0)
        kind = self.response_format
        samples = SAMPLE_RATE * millis // 1000
        if kind in ("wav", "pcm"):
            audio = b"\0" * (2 * samples)
            if kind == "wav":
                audio = wav_header(len(audio)) + audio
        elif kind == "mp3":
            audio = _MP3_FRAME * max(1, -(-millis // _MP3_FRAME_MS))
        else:
            audio = _SIGNATURES[kind] + b"\0" * 60
        return audio, (b"content-type", _SPEECH_TYPES[kind])


def wav_header(data_size: int, rate: int = SAMPLE_RATE) -> bytes:
    """The 44-byte header of a mono 16-bit PCM WAV file holding ``data_size`` bytes."""
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (
        b"RIFF" + struct.pack("<I", 36 + data_size) + b"WAVE"
        + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + b"data" + struct.pack("<I", data_size)
    )  # fmt: skip


def not_simulated(param: str) -> errors.ApiError:
    """A 400 for what OpenAI serves and the simulator does not (streamed audio)."""
    return errors.invalid_request(
        f"The simulator does not stream audio: '{param}' is not supported here.", param
    )


def parse_speech(body: object) -> Speech:
    if not isinstance(body, dict):
        raise errors.invalid_type("body", "an object", body)
    model = body.get("model")
    if model is None:
        raise errors.missing_parameter("model")
    if not isinstance(model, str):
        raise errors.invalid_type("model", "a string", model)
    if model not in SPEECH_MODELS:
        if model in MODEL_IDS:
            raise errors.invalid_value("model", model, tuple(sorted(SPEECH_MODELS)))
        raise errors.model_not_found(model)
    text = body.get("input")
    if not isinstance(text, str):
        params.require(body, "input", "input", "a string")
    if len(text) > MAX_SPEECH_INPUT:
        raise errors.invalid_request(
            f"Invalid 'input': string too long. Expected a string with maximum length "
            f"{MAX_SPEECH_INPUT}, but got a string with length {len(text)} instead.",
            "input",
            "string_above_max_length",
        )
    voice = body.get("voice")
    if not isinstance(voice, str | dict):
        params.require(body, "voice", "voice", "a string")
    if isinstance(voice, str) and voice not in _VOICES:
        raise errors.invalid_value("voice", voice, _VOICES)
    speech = Speech(model, text, voice if isinstance(voice, str) else "custom")
    kind = body.get("response_format", "mp3")
    if not isinstance(kind, str) or kind not in _SPEECH_TYPES:
        raise errors.invalid_value("response_format", kind, tuple(_SPEECH_TYPES))
    speech.response_format = kind
    if body.get("stream_format") == "sse":
        raise not_simulated("stream_format")
    speed = body.get("speed")
    if speed is not None:
        if not isinstance(speed, int | float) or isinstance(speed, bool):
            raise errors.invalid_type("speed", "a number", speed)
        if not 0.25 <= speed <= 4:
            raise errors.invalid_request(
                f"Invalid 'speed': expected a value between 0.25 and 4.0, but got {speed}.",
                "speed",
                "invalid_value",
            )
        speech.speed = float(speed)
    if body.get("instructions") is not None and model != "gpt-4o-mini-tts":
        raise errors.invalid_request(
            f"'instructions' is not supported with model '{model}'.", "instructions"
        )
    return speech
