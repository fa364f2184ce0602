"""Deterministic token counting and reply generation.

There is no tokenizer on these machines, and tests need numbers they can
predict from the request alone, so the simulator counts with one documented
rule instead of a BPE vocabulary.

Counting rule
-------------
``count_text(text)`` is the number of matches of the regex ``\\w+|[^\\w\\s]``
(a run of word characters, or any single character that is neither a word
character nor whitespace; ``\\w`` is Unicode-aware). So ``"Hello, world!"``
counts 4.

Chat ``prompt_tokens`` = 3 + sum over messages of
(3 + ``count_text`` of the message's text + 85 × its image parts), where the
text is the ``content`` string, or the ``text`` of every ``{"type": "text"}``
part of an array content (each counted separately), and an image part is a
``{"type": "image_url"}`` part. Other fields (``name``, ``tool_calls``, the
``tools`` list) do not count.

Chat ``completion_tokens`` = the reply length N per choice times ``n``, where
N is 16, or ``[sim:tokens=N]`` from the last message, capped by
``max_tokens`` / ``max_completion_tokens``. A tool-call reply counts
``count_text(name) + 2`` per choice (the ``{}`` arguments are two tokens).

``cached_tokens`` = ``[sim:cached=N]`` capped at ``prompt_tokens``, else 0.

Embeddings ``prompt_tokens`` = sum over inputs of ``count_text`` (strings) or
the list length (token-id arrays).

A text reply is N words from a 64-word vocabulary, picked by SHAKE-256 of a
digest of the request's messages and the choice index; the first word is
capitalised and every later one carries a leading space, with no
punctuation, so ``count_text(reply) == N`` and each word is one stream chunk.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

import orjson

TOKEN_RE: Final = re.compile(r"\w+|[^\w\s]")
#: ``[sim:echo]``'s stream tokens: a word or a symbol with the whitespace before it.
ECHO_TOKEN_RE: Final = re.compile(r"\s*(?:\w+|[^\w\s])|\s+")

PER_MESSAGE: Final = 3
PER_REQUEST: Final = 3
PER_IMAGE: Final = 85
TOOL_ARGUMENT_TOKENS: Final = 2

_VOCABULARY: Final = (
    "the", "model", "answer", "token", "stream", "gateway", "request", "simple",
    "quick", "bright", "river", "stone", "cloud", "signal", "garden", "window",
    "paper", "light", "north", "silver", "number", "orange", "planet", "forest",
    "little", "market", "engine", "bridge", "summer", "winter", "ocean", "mirror",
    "copper", "velvet", "harbor", "meadow", "pencil", "rocket", "basket", "candle",
    "dragon", "falcon", "island", "jacket", "ladder", "marble", "needle", "pocket",
    "rabbit", "saddle", "tunnel", "violet", "wander", "yellow", "zephyr", "anchor",
    "beacon", "cactus", "dinner", "ember", "fabric", "glider", "hollow", "insect",
)  # fmt: skip
_FIRST: Final = tuple(word.capitalize() for word in _VOCABULARY)
_NEXT: Final = tuple(" " + word for word in _VOCABULARY)


def count_text(text: str) -> int:
    return len(TOKEN_RE.findall(text))


def content_text(content: object) -> tuple[list[str], int]:
    """The text pieces and image-part count of a message ``content`` (already validated)."""
    if isinstance(content, str):
        return [content], 0
    texts: list[str] = []
    images = 0
    if isinstance(content, list):
        for part in content:
            if not isinstance(part, dict):
                continue
            kind = part.get("type")
            if kind == "text":
                text = part.get("text")
                if isinstance(text, str):
                    texts.append(text)
            elif kind == "image_url":
                images += 1
    return texts, images


def last_message_text(messages: list[dict[str, object]]) -> str:
    """The text directives are read from: the last message's text, parts joined."""
    texts, _ = content_text(messages[-1].get("content"))
    return texts[0] if len(texts) == 1 else "\n".join(texts)


def prompt_tokens(messages: list[dict[str, object]]) -> int:
    total = PER_REQUEST
    for message in messages:
        texts, images = content_text(message.get("content"))
        total += PER_MESSAGE + PER_IMAGE * images
        for text in texts:
            total += len(TOKEN_RE.findall(text))
    return total


def messages_seed(messages: list[dict[str, object]]) -> bytes:
    """A stable digest of the messages, so the same conversation gets the same reply."""
    return hashlib.blake2b(orjson.dumps(messages), digest_size=16).digest()


def reply_words(seed: bytes, choice: int, count: int) -> list[str]:
    """``count`` stream tokens for one choice: ``["Word", " word", " word", ...]``."""
    if count <= 0:
        return []
    picks = hashlib.shake_256(seed + choice.to_bytes(4, "little")).digest(count)
    words = [_NEXT[b & 63] for b in picks]
    words[0] = _FIRST[picks[0] & 63]
    return words


def tool_call_id(seed: bytes, choice: int) -> str:
    digest = hashlib.blake2b(seed + choice.to_bytes(4, "little"), digest_size=12).hexdigest()
    return f"call_{digest}"


def tool_call_tokens(name: str) -> int:
    return count_text(name) + TOOL_ARGUMENT_TOKENS
