"""Which models can hold a conversation: embedding models cannot.

An upstream's model list (and the price book) mixes chat models with
embedding models. Offered in the chat picker, an embedding model only fails
with an upstream error nobody can act on, so the picker leaves them out and
a chat turn naming one is refused up front, in words.
"""

from __future__ import annotations

from chatgrid.errors import InvalidRequest


def is_embedding_model(model: str, embedding_model: str) -> bool:
    """True for the instance's embedding model and for any model named as one (``*embed*``)."""
    return model == embedding_model or "embed" in model.lower()


def chat_models(models: list[str], embedding_model: str) -> list[str]:
    """The models a member may pick to chat with, in the order given."""
    return [m for m in models if not is_embedding_model(m, embedding_model)]


def refuse_unless_chat_model(model: str, embedding_model: str) -> None:
    if is_embedding_model(model, embedding_model):
        raise InvalidRequest(
            f"'{model}' is an embedding model: it turns text into numbers for document "
            "search and cannot answer a chat. Pick a chat model in the list.",
            param="model",
            code="not_a_chat_model",
        )
