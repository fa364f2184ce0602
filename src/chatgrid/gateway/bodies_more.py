"""The ``/v1`` endpoints beyond chat and embeddings, and how each body is prepared."""

from __future__ import annotations

from chatgrid.gateway.bodies import PreparedCall
from chatgrid.gateway.bodies_audio import prepare_transcription
from chatgrid.gateway.bodies_media import prepare_images, prepare_moderations, prepare_speech
from chatgrid.gateway.bodies_responses import prepare_responses

#: The paths ``POST``ed to the preparers below (``/v1/responses/{id}`` is a lookup).
MORE_ENDPOINTS = frozenset(
    {
        "/v1/responses",
        "/v1/moderations",
        "/v1/images/generations",
        "/v1/audio/speech",
        "/v1/audio/transcriptions",
    }
)


def prepare_more(path: str, raw: bytes, user_tag: str, content_type: bytes | None) -> PreparedCall:
    """Check the body of a call to one of :data:`MORE_ENDPOINTS`."""
    if path == "/v1/moderations":
        return prepare_moderations(raw)
    if path == "/v1/images/generations":
        return prepare_images(raw, user_tag)
    if path == "/v1/audio/transcriptions":
        return prepare_transcription(raw, content_type)
    if path == "/v1/audio/speech":
        return prepare_speech(raw)
    return prepare_responses(raw, user_tag)
