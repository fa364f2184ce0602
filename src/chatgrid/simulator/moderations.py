"""``/v1/moderations``: flags decided by a keyword list, so a test knows the verdict.

An input is flagged in a category when its lower-cased text contains one of
that category's words below (a parent category, e.g. ``violence``, is set
with its child ``violence/graphic``); its score is then 0.97, otherwise
0.0001. Image parts (``omni-moderation-latest`` only) are never flagged.
Directives ride in the first text input. The record's ``units`` count the
inputs; moderation costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from random import getrandbits
from typing import Final

import orjson

from chatgrid.simulator import errors, params, tokens
from chatgrid.simulator.catalogue import MODEL_IDS, MODERATION_MODELS
from chatgrid.simulator.directives import Directives
from chatgrid.simulator.records import RequestRecord, Usage
from chatgrid.simulator.wire import JSON_TYPE

DEFAULT_MODEL: Final = "omni-moderation-latest"
FLAGGED_SCORE: Final = 0.97
CLEAR_SCORE: Final = 0.0001

#: Category → words that flag it. Kept short and unmistakable on purpose.
KEYWORDS: Final[dict[str, tuple[str, ...]]] = {
    "hate": ("hate speech",),
    "hate/threatening": ("exterminate them",),
    "harassment": ("you idiot", "harass"),
    "harassment/threatening": ("i will find you",),
    "illicit": ("counterfeit", "launder money"),
    "illicit/violent": ("build a bomb",),
    "self-harm": ("self-harm", "hurt myself"),
    "self-harm/intent": ("hurt myself",),
    "self-harm/instructions": ("how to self-harm",),
    "sexual": ("explicit sex",),
    "sexual/minors": ("sexual minor",),
    "violence": ("kill", "murder", "stab"),
    "violence/graphic": ("gore", "dismember"),
}
_PARENTS: Final = {
    child: child.split("/")[0] for child in KEYWORDS if "/" in child and child != "illicit/violent"
}
_IMAGE_CATEGORIES: Final = frozenset(
    {"self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "violence",
     "violence/graphic"}
)  # fmt: skip


class ModerationRequest:
    __slots__ = ("images", "model", "texts")

    stream = False

    def __init__(self, model: str, texts: list[str], images: list[int]) -> None:
        self.model = model
        self.texts = texts
        #: Per input, how many image parts it had (multi-modal inputs).
        self.images = images

    def directive_text(self) -> str:
        return self.texts[0] if self.texts else ""

    def reply(
        self, directives: Directives, record: RequestRecord
    ) -> tuple[bytes, tuple[bytes, bytes]]:
        results = [
            self._result(text, images) for text, images in zip(self.texts, self.images, strict=True)
        ]
        record.usage = Usage(sum(tokens.count_text(text) for text in self.texts), 0, 0)
        record.units = {"inputs": len(self.texts)}
        body = {"id": f"modr-{getrandbits(128):032x}", "model": self.model, "results": results}
        return orjson.dumps(body), JSON_TYPE

    def events(
        self, directives: Directives, record: RequestRecord
    ) -> tuple[Iterator[tuple[bytes, int]], int]:
        raise NotImplementedError

    def _result(self, text: str, images: int) -> dict[str, object]:
        lowered = text.lower()
        flags = {name: any(word in lowered for word in words) for name, words in KEYWORDS.items()}
        for child, parent in _PARENTS.items():
            flags[parent] = flags[parent] or flags[child]
        applied = {
            name: ["text", "image"] if images and name in _IMAGE_CATEGORIES else ["text"]
            for name in KEYWORDS
        }
        return {
            "flagged": any(flags.values()),
            "categories": flags,
            "category_scores": {
                name: FLAGGED_SCORE if flagged else CLEAR_SCORE for name, flagged in flags.items()
            },
            "category_applied_input_types": applied,
        }


def parse(body: object) -> ModerationRequest:
    if not isinstance(body, dict):
        raise errors.invalid_type("body", "an object", body)
    model = body.get("model", DEFAULT_MODEL)
    if not isinstance(model, str):
        raise errors.invalid_type("model", "a string", model)
    if model not in MODERATION_MODELS:
        if model in MODEL_IDS:
            raise errors.invalid_value("model", model, tuple(sorted(MODERATION_MODELS)))
        raise errors.model_not_found(model)
    raw = body.get("input")
    if raw is None:
        raise errors.missing_parameter("input")
    if isinstance(raw, str):
        return ModerationRequest(model, [raw], [0])
    if not isinstance(raw, list):
        raise errors.invalid_type("input", "one of a string or array", raw)
    if not raw:
        raise params.empty_array("input")
    if all(isinstance(item, str) for item in raw):
        return ModerationRequest(model, list(raw), [0] * len(raw))
    return _multimodal(model, raw)


def _multimodal(model: str, parts: list[object]) -> ModerationRequest:
    """An array of ``text`` / ``image_url`` parts is one input, as OpenAI reads it."""
    texts: list[str] = []
    images = 0
    for index, part in enumerate(parts):
        where = f"input[{index}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if not isinstance(part, dict) or kind not in ("text", "image_url"):
            raise errors.invalid_value(f"{where}.type", kind, ("text", "image_url"))
        if kind == "text":
            text = part.get("text")
            if not isinstance(text, str):
                params.require(part, "text", f"{where}.text", "a string")
            texts.append(text)
        else:
            if model != DEFAULT_MODEL:
                raise errors.invalid_request(
                    f"Model '{model}' does not support image inputs.", where, "invalid_value"
                )
            images += 1
    return ModerationRequest(model, ["\n".join(texts)], [images])
