"""``/v1/images/generations``: OpenAI's size, quality and ``n`` rules, and real PNGs.

Each image is a valid PNG of the size asked for, one flat colour picked from
the prompt (a 1-bit paletted PNG, so a 1792x1024 image is a few hundred
bytes and costs next to nothing to make). ``gpt-image-1`` always answers in
base64 with token ``usage``: input = ``count_text(prompt)`` text tokens,
output = OpenAI's published image tokens per size and quality times ``n``.
The DALL-E models answer ``url`` (a ``data:`` URL, there being no storage
to point at) or ``b64_json``. The record's ``units`` say how many images, of
which size and quality, a ledger should have charged.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
import zlib
from collections.abc import Iterator
from functools import lru_cache
from typing import Final

import orjson

from chatgrid.simulator import errors, params, tokens
from chatgrid.simulator.catalogue import IMAGE_MODELS, MODEL_IDS
from chatgrid.simulator.directives import Directives
from chatgrid.simulator.records import RequestRecord, Usage
from chatgrid.simulator.wire import JSON_TYPE

DEFAULT_MODEL: Final = "dall-e-2"
GPT_IMAGE: Final = "gpt-image-1"
MAX_IMAGES: Final = 10

_SIZES: Final[dict[str, tuple[str, ...]]] = {
    "dall-e-2": ("256x256", "512x512", "1024x1024"),
    "dall-e-3": ("1024x1024", "1792x1024", "1024x1792"),
    GPT_IMAGE: ("1024x1024", "1536x1024", "1024x1536", "auto"),
}
_QUALITIES: Final[dict[str, tuple[str, ...]]] = {
    "dall-e-2": ("standard", "auto"),
    "dall-e-3": ("standard", "hd", "auto"),
    GPT_IMAGE: ("low", "medium", "high", "auto"),
}
#: What ``auto`` resolves to, per model.
_AUTO_QUALITY: Final = {"dall-e-2": "standard", "dall-e-3": "standard", GPT_IMAGE: "medium"}
_AUTO_SIZE: Final = "1024x1024"
_FORMATS: Final = ("url", "b64_json")
_OUTPUT_FORMATS: Final = ("png", "jpeg", "webp")
_BACKGROUNDS: Final = ("transparent", "opaque", "auto")
_STYLES: Final = ("vivid", "natural")
#: gpt-image-1's output tokens per image: (square, portrait or landscape) by quality.
IMAGE_TOKENS: Final = {"low": (272, 408), "medium": (1056, 1584), "high": (4160, 6240)}
#: Flat colours an image may have (chosen by the prompt's digest).
_PALETTE: Final = tuple(
    bytes.fromhex(colour)
    for colour in ("3b82f6", "ef4444", "10b981", "f59e0b", "8b5cf6", "ec4899", "14b8a6", "64748b")
)


class ImageRequest:
    __slots__ = ("background", "model", "n", "output_format", "prompt", "quality", "size", "url")

    stream = False

    def __init__(self, model: str, prompt: str) -> None:
        self.model = model
        self.prompt = prompt
        self.n = 1
        self.size = _AUTO_SIZE
        self.quality = _AUTO_QUALITY[model]
        self.url = model != GPT_IMAGE
        self.output_format = "png"
        self.background = "opaque"

    def directive_text(self) -> str:
        return self.prompt

    def usage(self) -> Usage | None:
        """gpt-image-1's token usage; the DALL-E models report none."""
        if self.model != GPT_IMAGE:
            return None
        square = self.size == "1024x1024"
        per_image = IMAGE_TOKENS[self.quality][0 if square else 1]
        return Usage(tokens.count_text(self.prompt), per_image * self.n, 0)

    def reply(
        self, directives: Directives, record: RequestRecord
    ) -> tuple[bytes, tuple[bytes, bytes]]:
        colour = _PALETTE[hashlib.blake2b(self.prompt.encode()).digest()[0] % len(_PALETTE)]
        width, height = (int(side) for side in self.size.split("x"))
        encoded = base64.b64encode(png(width, height, colour)).decode()
        item: dict[str, object] = (
            {"url": f"data:image/png;base64,{encoded}"} if self.url else {"b64_json": encoded}
        )
        if self.model == "dall-e-3":
            item["revised_prompt"] = self.prompt
        body: dict[str, object] = {"created": int(time.time()), "data": [item] * self.n}
        usage = self.usage()
        record.usage = usage
        record.units = {"images": self.n, "size": self.size, "quality": self.quality}
        if usage is not None:
            body.update(
                background=self.background,
                output_format=self.output_format,
                size=self.size,
                quality=self.quality,
                usage={
                    "input_tokens": usage.prompt_tokens,
                    "input_tokens_details": {
                        "text_tokens": usage.prompt_tokens,
                        "image_tokens": 0,
                    },
                    "output_tokens": usage.completion_tokens,
                    "output_tokens_details": {
                        "image_tokens": usage.completion_tokens,
                        "text_tokens": 0,
                    },
                    "total_tokens": usage.total_tokens,
                },
            )
        return orjson.dumps(body), JSON_TYPE

    def events(
        self, directives: Directives, record: RequestRecord
    ) -> tuple[Iterator[tuple[bytes, int]], int]:
        raise NotImplementedError


def parse(body: object) -> ImageRequest:
    if not isinstance(body, dict):
        raise errors.invalid_type("body", "an object", body)
    prompt = body.get("prompt")
    if not isinstance(prompt, str):
        params.require(body, "prompt", "prompt", "a string")
    if not prompt:
        raise errors.invalid_request(
            "Invalid 'prompt': empty string. Expected a string with minimum length 1, "
            "but got an empty string instead.",
            "prompt",
            "empty_string",
        )
    request = ImageRequest(_model(body.get("model")), prompt)
    if body.get("stream") is True:
        raise errors.invalid_request(
            "The simulator does not stream images: 'stream' is not supported here.", "stream"
        )
    model = request.model
    request.n = params.integer(body, "n", 1, 1 if model == "dall-e-3" else MAX_IMAGES) or 1
    request.size = _choice(body, "size", _SIZES[model]) or _AUTO_SIZE
    if request.size == "auto":
        request.size = _AUTO_SIZE
    quality = _choice(body, "quality", _QUALITIES[model])
    request.quality = _AUTO_QUALITY[model] if quality in (None, "auto") else quality
    if model == GPT_IMAGE:
        if body.get("response_format") is not None:
            raise errors.invalid_request(
                "Unknown parameter: 'response_format'.", "response_format", "unknown_parameter"
            )
        request.output_format = _choice(body, "output_format", _OUTPUT_FORMATS) or "png"
        background = _choice(body, "background", _BACKGROUNDS)
        request.background = "transparent" if background == "transparent" else "opaque"
    else:
        request.url = (_choice(body, "response_format", _FORMATS) or "url") == "url"
        if model == "dall-e-3":
            _choice(body, "style", _STYLES)
    return request


def _model(model: object) -> str:
    if model is None:
        return DEFAULT_MODEL
    if not isinstance(model, str):
        raise errors.invalid_type("model", "a string", model)
    if model not in IMAGE_MODELS:
        if model in MODEL_IDS:
            raise errors.invalid_value("model", model, tuple(sorted(IMAGE_MODELS)))
        raise errors.model_not_found(model)
    return model


def _choice(body: dict[str, object], name: str, allowed: tuple[str, ...]) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise errors.invalid_value(name, value, allowed)
    return value


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@lru_cache(maxsize=64)
def png(width: int, height: int, colour: bytes) -> bytes:
    """A ``width`` x ``height`` PNG of one colour: 1-bit, one palette entry."""
    header = struct.pack(">IIBBBBB", width, height, 1, 3, 0, 0, 0)
    row = b"\0" * (1 + (width + 7) // 8)
    pixels = zlib.compress(row * height, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"PLTE", colour)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )
