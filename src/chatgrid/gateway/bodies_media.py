"""Check and prepare the bodies of ``/v1`` calls priced by other units than tokens.

Moderations (free), image generations (per image, by size and quality),
transcriptions (per audio minute; a multipart body) and speech (per 1M
characters of input). As for chat, the gateway checks only what it relies
on — the model and what bounds the call's cost — and passes the rest on.
"""

from __future__ import annotations

from chatgrid.errors import InvalidRequest
from chatgrid.gateway.bodies import PreparedCall, _dump, _load_object, _model, _positive_int
from chatgrid.ledger.units import CHARACTERS, IMAGES, INPUTS, Units, image_variant

DEFAULT_MODERATION_MODEL = "omni-moderation-latest"
DEFAULT_IMAGE_MODEL = "dall-e-2"


def prepare_moderations(raw: bytes) -> PreparedCall:
    data = _load_object(raw)
    if "model" not in data:
        data["model"] = DEFAULT_MODERATION_MODEL  # OpenAI's default, named for the ledger
    model = _model(data)
    value = data.get("input")
    valid = isinstance(value, str) or (isinstance(value, list) and bool(value))
    if not valid:
        raise InvalidRequest(
            "input must be a string, an array of strings or an array of input parts",
            param="input",
        )
    count = len(value) if isinstance(value, list) else 1
    units = Units(INPUTS, count)
    return PreparedCall("moderations", model, False, False, _dump(data), data, units)


def prepare_images(raw: bytes, user_tag: str) -> PreparedCall:
    """An image generation: ``n`` images of the size and quality asked (OpenAI's defaults)."""
    data = _load_object(raw)
    if "model" not in data:
        data["model"] = DEFAULT_IMAGE_MODEL  # OpenAI's default, named for the ledger
    model = _model(data)
    if not isinstance(data.get("prompt"), str) or not data["prompt"]:
        raise InvalidRequest("prompt must be a non-empty string", param="prompt")
    _positive_int(data, "n", 10)
    if data.get("stream"):
        raise InvalidRequest("streamed image generations are not supported", param="stream")
    n = data.get("n") or 1
    data["user"] = user_tag
    units = Units(IMAGES, n, image_variant(data, model))
    return PreparedCall("images", model, False, False, _dump(data), data, units)


def prepare_speech(raw: bytes) -> PreparedCall:
    """Speech: priced by the characters of ``input``, known before the call."""
    data = _load_object(raw)
    model = _model(data)
    text = data.get("input")
    if not isinstance(text, str) or not text:
        raise InvalidRequest("input must be a non-empty string", param="input")
    if data.get("stream_format") not in (None, "audio"):
        raise InvalidRequest("only stream_format 'audio' is supported", param="stream_format")
    units = Units(CHARACTERS, len(text))
    return PreparedCall("speech", model, False, False, _dump(data), data, units)
