"""Check and prepare ``POST /v1/audio/transcriptions`` (a multipart body; pure).

The body was read whole, up to ``CHATGRID_MAX_BODY_BYTES``, and goes upstream
unchanged with its own content type. The gateway reads only the ``model``
field and the file: a WAV file's duration from its header (exact), any other
file's bounded by its size at the lowest bit rate a speech codec uses
(8 kbit/s: 1,000 bytes a second), so the reservation is never below the cost.
After the call, an answer that reports its ``seconds`` narrows the bound.
"""

from __future__ import annotations

import math
import re
import struct

from chatgrid.errors import InvalidRequest
from chatgrid.gateway.bodies import PreparedCall
from chatgrid.ledger.units import AUDIO_MS, Units

#: The fewest bytes a second of speech takes (8 kbit/s), bounding an unknown file's length.
MIN_BYTES_PER_SECOND = 1_000
_BOUNDARY = re.compile(rb'boundary="?([^";\s]+)"?', re.IGNORECASE)
_NAME = re.compile(rb'name="([^"]*)"', re.IGNORECASE)
_FILENAME = re.compile(rb'filename="([^"]*)"', re.IGNORECASE)
_SECONDS = re.compile(rb'"seconds"\s*:\s*([0-9]+(?:\.[0-9]+)?)')


def _form(raw: bytes, content_type: bytes | None) -> tuple[dict[str, str], bytes | None]:
    found = _BOUNDARY.search(content_type or b"")
    if found is None or not (content_type or b"").lower().startswith(b"multipart/form-data"):
        raise InvalidRequest(
            "send the audio as multipart/form-data with a file field", code="invalid_multipart"
        )
    fields: dict[str, str] = {}
    upload: bytes | None = None
    for part in raw.split(b"--" + found.group(1))[1:]:
        if part.startswith(b"--"):
            break
        head, separator, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        name = _NAME.search(head)
        if not separator or name is None:
            continue
        content = content.removesuffix(b"\r\n")
        if _FILENAME.search(head) is not None:
            if name.group(1) == b"file":
                upload = content
        else:
            fields[name.group(1).decode("utf-8", "replace")] = content.decode("utf-8", "replace")
    return fields, upload


def wav_duration_ms(content: bytes) -> int | None:
    """A WAV file's length in milliseconds (rounded up) from its header; None if not WAV."""
    if len(content) < 12 or content[:4] != b"RIFF" or content[8:12] != b"WAVE":
        return None
    byte_rate = data_size = 0
    offset = 12
    while offset + 8 <= len(content):
        kind = content[offset : offset + 4]
        size = struct.unpack_from("<I", content, offset + 4)[0]
        if kind == b"fmt " and size >= 16 and offset + 20 <= len(content):
            byte_rate = struct.unpack_from("<I", content, offset + 16)[0]
        elif kind == b"data":
            data_size = min(size, len(content) - offset - 8)
            break
        offset += 8 + size + (size & 1)
    if not byte_rate:
        return None
    return -(-data_size * 1000 // byte_rate)


def prepare_transcription(raw: bytes, content_type: bytes | None) -> PreparedCall:
    fields, upload = _form(raw, content_type)
    model = fields.get("model", "").strip()
    if not model or len(model) > 100:
        raise InvalidRequest(
            "you must provide a model parameter", param="model", code="missing_model"
        )
    if upload is None or not upload:
        raise InvalidRequest("you must provide an audio file", param="file")
    if fields.get("stream", "false").lower() == "true":
        raise InvalidRequest("streamed transcriptions are not supported", param="stream")
    exact = wav_duration_ms(upload)
    bound = exact if exact is not None else -(-len(upload) * 1000 // MIN_BYTES_PER_SECOND)
    request = {"model": model, "file_bytes": len(upload), "duration_exact": exact is not None}
    units = Units(AUDIO_MS, bound)
    type_ = (content_type or b"").decode("latin-1")
    return PreparedCall("transcriptions", model, False, False, raw, request, units, type_)


def transcription_units(prepared: PreparedCall, payload: bytes) -> Units | None:
    """The audio the answer says it heard, when the file's length was only bounded."""
    units = prepared.units
    if units is None or prepared.request.get("duration_exact"):
        return units
    found = _SECONDS.search(payload[-512:]) if payload.startswith(b"{") else None
    if found is None:
        return units
    heard = math.ceil(float(found.group(1)) * 1000)
    return Units(AUDIO_MS, min(heard, units.count))
