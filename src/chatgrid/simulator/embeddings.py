"""``/v1/embeddings``: validation and deterministic unit vectors that mean something.

A text's vector is the sum, over its distinct lower-cased words, of a
SHAKE-256 stream per (model, word) read as signed bytes, scaled to unit
length and rounded to float32 (what OpenAI serves). Texts that share words
therefore point the same way, so retrieval tests behind the gateway rank by
real overlap, while the same input always gets the same vector. Because
SHAKE's output for a shorter length is a prefix of the longer one,
``dimensions=d`` behaves like OpenAI's shortened embeddings: the first ``d``
components of the full vector, renormalised. Token-array inputs (and texts
without a word) hash as a whole. Vectors are cached, as float32 bytes, for
inputs that repeat.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import sys
from array import array
from functools import lru_cache
from typing import Final

import orjson

from chatgrid.simulator import errors, params, tokens
from chatgrid.simulator.catalogue import EMBEDDING_DIMS, MODEL_IDS, SHORTENABLE

MAX_INPUTS: Final = 2048
_WORD_RE: Final = re.compile(r"\w+")
_FORMATS: Final = ("float", "base64")

EmbeddingInput = str | list[int]


class EmbeddingRequest:
    __slots__ = ("base64", "dimensions", "inputs", "model")

    def __init__(self, model: str, inputs: list[EmbeddingInput], dimensions: int) -> None:
        self.model = model
        self.inputs = inputs
        self.dimensions = dimensions
        self.base64 = False

    def directive_text(self) -> str:
        """Directives ride in the first input, when it is a string."""
        first = self.inputs[0]
        return first if isinstance(first, str) else ""

    def prompt_tokens(self) -> int:
        return sum(
            tokens.count_text(item) if isinstance(item, str) else len(item) for item in self.inputs
        )


def parse_embedding_request(body: object, deployment_model: str | None = None) -> EmbeddingRequest:
    if not isinstance(body, dict):
        raise errors.invalid_type("body", "an object", body)
    inputs = _inputs(body.get("input"))
    model = deployment_model if deployment_model is not None else _model(body.get("model"))
    request = EmbeddingRequest(model, inputs, EMBEDDING_DIMS[model])
    if body.get("dimensions") is not None:
        if model not in SHORTENABLE:
            raise errors.invalid_request(
                "This model does not support specifying dimensions.", "dimensions"
            )
        request.dimensions = params.integer(body, "dimensions", 1, EMBEDDING_DIMS[model]) or 1
    encoding = body.get("encoding_format")
    if encoding is not None:
        if not isinstance(encoding, str) or encoding not in _FORMATS:
            raise errors.invalid_value("encoding_format", encoding, _FORMATS)
        request.base64 = encoding == "base64"
    return request


def _model(model: object) -> str:
    if model is None:
        raise errors.missing_parameter("model")
    if not isinstance(model, str):
        raise errors.invalid_type("model", "a string", model)
    if model not in EMBEDDING_DIMS:
        if model in MODEL_IDS:
            raise errors.invalid_request(
                "You are not allowed to generate embeddings from this model", "model"
            )
        raise errors.model_not_found(model)
    return model


def _invalid_input() -> errors.ApiError:
    return errors.invalid_request(
        "'$.input' is invalid. Please check the API reference: "
        "https://platform.openai.com/docs/api-reference.",
        "input",
    )


def _is_tokens(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in value)
    )


def _inputs(raw: object) -> list[EmbeddingInput]:
    """Accept a string, strings, one token array, or token arrays; nothing empty."""
    if raw is None:
        raise errors.missing_parameter("input")
    if isinstance(raw, str):
        if not raw:
            raise _invalid_input()
        return [raw]
    if not isinstance(raw, list) or not raw:
        raise _invalid_input()
    if len(raw) > MAX_INPUTS:
        raise errors.invalid_request(
            f"Invalid 'input': array too long. Expected an array with maximum length "
            f"{MAX_INPUTS}, but got an array with length {len(raw)} instead.",
            "input",
            "array_above_max_length",
        )
    if all(isinstance(item, str) and item for item in raw):
        return list(raw)
    if _is_tokens(raw):
        return [list(raw)]
    if all(_is_tokens(item) for item in raw):
        return [list(item) for item in raw]
    raise _invalid_input()


@lru_cache(maxsize=2048)
def _vector(model: str, dimensions: int, key: bytes) -> bytes:
    """The unit vector for one input, as native-order float32 bytes (cached: 4 B/dim)."""
    prefix = model.encode() + b"\0"
    sums = [0] * dimensions
    for feature in _features(key):
        stream = array("b", hashlib.shake_256(prefix + feature).digest(dimensions))
        sums = [a + b for a, b in zip(sums, stream, strict=True)]
    scale = 1.0 / (math.hypot(*sums) or 1.0)
    return array("f", [component * scale for component in sums]).tobytes()


def _features(key: bytes) -> list[bytes]:
    """The distinct words of a text input; the whole input otherwise."""
    if key[:1] == b"s":
        text = key[1:].decode("utf-8", "surrogatepass").lower()
        words = sorted(set(_WORD_RE.findall(text)))
        if words:
            return [word.encode("utf-8", "surrogatepass") for word in words]
    return [key]


def _as_floats(packed: bytes) -> list[float]:
    floats = array("f")
    floats.frombytes(packed)
    return floats.tolist()


def _as_base64(packed: bytes) -> str:
    """OpenAI's base64 encoding: little-endian float32."""
    if sys.byteorder == "big":
        floats = array("f")
        floats.frombytes(packed)
        floats.byteswap()
        packed = floats.tobytes()
    return base64.b64encode(packed).decode()


def _input_key(item: EmbeddingInput) -> bytes:
    if isinstance(item, str):
        return b"s" + item.encode("utf-8", "surrogatepass")
    return b"t" + orjson.dumps(item)


def render_embeddings(request: EmbeddingRequest, prompt_tokens: int) -> bytes:
    data: list[dict[str, object]] = []
    for index, item in enumerate(request.inputs):
        packed = _vector(request.model, request.dimensions, _input_key(item))
        vector = _as_base64(packed) if request.base64 else _as_floats(packed)
        data.append({"object": "embedding", "index": index, "embedding": vector})
    return orjson.dumps(
        {
            "object": "list",
            "data": data,
            "model": request.model,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
        }
    )
