"""Bytes to text for plain-text and Markdown uploads, refusing binary files.

Members upload what their editors wrote: mostly UTF-8, sometimes UTF-16 from
Windows tools or a legacy code page. UTF-8 is tried first because it is
nearly always right and cheap; only then does ``charset-normalizer`` guess.
A file that still looks like control characters is binary, and indexing it
would only put noise into search.
"""

from __future__ import annotations

import codecs

import charset_normalizer

from chatgrid.documents.extract_model import ExtractionFailed, unsupported

_SAMPLE_CHARS = 65_536
_MAX_GARBAGE_RATIO = 0.02
_ALLOWED_CONTROLS = frozenset("\t\n\r\f")
_WESTERN = "cp1252"


def decode_text(data: bytes) -> str:
    """The upload as text, or ``unsupported_document_type`` if it is binary."""
    if data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data[:_SAMPLE_CHARS]:
        raise _binary()
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _guess_decode(data)
    if looks_binary(text):
        raise _binary()
    return text


def looks_binary(text: str) -> bool:
    """True when too many characters are controls or replacement marks to be prose."""
    sample = text[:_SAMPLE_CHARS]
    if not sample:
        return False
    garbage = sum(
        1
        for char in sample
        if char == "\ufffd" or (char < " " and char not in _ALLOWED_CONTROLS) or char == "\x7f"
    )
    return garbage / len(sample) > _MAX_GARBAGE_RATIO


def _guess_decode(data: bytes) -> str:
    """charset-normalizer's guess, preferring Windows-1252 among equally good ones.

    On short Western European text several code pages decode without a
    flaw and the library picks one arbitrarily (often Central European
    cp1250, turning "è" into "č"); Windows-1252 is what such files were
    saved in far more often.
    """
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        raise _binary()
    for match in matches:
        if match.chaos <= best.chaos and _WESTERN in match.could_be_from_charset:
            return data.decode(_WESTERN, errors="replace")
    return str(best)


def _binary() -> ExtractionFailed:
    return unsupported("This file looks like binary data, not text.")
