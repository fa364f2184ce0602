"""The ``/v1`` endpoints beyond chat and embeddings, and how each body is prepared."""

from __future__ import annotations

from chatgrid.gateway.bodies import PreparedCall
from chatgrid.gateway.bodies_responses import prepare_responses

#: The paths ``POST``ed to the preparers below (``/v1/responses/{id}`` is a lookup).
MORE_ENDPOINTS = frozenset({"/v1/responses"})


def prepare_more(path: str, raw: bytes, user_tag: str, content_type: bytes | None) -> PreparedCall:
    """Check the body of a call to one of :data:`MORE_ENDPOINTS`."""
    return prepare_responses(raw, user_tag)
