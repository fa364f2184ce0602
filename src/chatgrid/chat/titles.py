"""A conversation's title: made by a small model after the first answer, or its first line.

A title is a convenience, so it never stands in an answer's way: the first
line of the question, cleaned of simulator directives and Markdown, is
written at once when the question is stored; a model's title replaces it
only after the first answer has completed, only where the org's admin has
generated titles on, and only if nobody renamed the conversation meanwhile.
The title call goes through the gateway like any other call of the member
(same billing mode, limits and ledger); any refusal or failure of it only
leaves the first line in place.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final, Protocol

from chatgrid.chat.ports import ChatModels
from chatgrid.errors import ChatGridError

log = logging.getLogger(__name__)

TITLE_CHARS: Final = 60
NEW_TITLE: Final = "New chat"
#: What the title model may say at most: a title is a handful of words.
TITLE_MAX_TOKENS: Final = 24
#: How much of the question the title model sees.
QUESTION_CHARS: Final = 2_000
TITLE_INSTRUCTIONS: Final = (
    "You name conversations. Reply with a short title (at most six words) for the "
    "conversation that starts with the user's next message. Reply with the title only: "
    "no quotes, no punctuation at the end, no Markdown."
)

_DIRECTIVE = re.compile(r"\[[a-z]+:[^\]\n]*\]")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_LINE_MARK = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+|\d{1,3}[.)]\s+)+")
_EMPHASIS = re.compile(r"(\*\*|__|~~|`+|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w))")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LABEL = re.compile(r"^\s*title\s*:\s*", re.IGNORECASE)
_QUOTES = "\"'“”‘’«»`"


def _clean(line: str) -> str:
    line = _DIRECTIVE.sub(" ", line)
    line = _IMAGE.sub(r"\1", line)
    line = _LINK.sub(r"\1", line)
    line = _LINE_MARK.sub("", line)
    line = _EMPHASIS.sub("", line)
    return " ".join(line.split())


def _shorten(line: str) -> str:
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 3].rstrip() + "…"


def clean_first_line(text: str) -> str:
    """The first line that says something, without directives or Markdown, on one line."""
    for raw in text.splitlines():
        if _FENCE.match(raw):
            continue
        line = _clean(raw)
        if line:
            return _shorten(line)
    return NEW_TITLE


def is_placeholder(title: str, question: str) -> bool:
    """Whether a conversation's title only stands in until its first question names it:
    "New chat", or the start of that question's text as the page sent it when it made
    the conversation (raw, perhaps cut with "…"). A title chosen apart is kept."""
    if title == NEW_TITLE:
        return True
    start = " ".join(title.removesuffix("…").split())
    return bool(start) and " ".join(question.split()).startswith(start)


def generated_title(reply: str) -> str | None:
    """What a title model said, made a title: one line, no label, quotes or Markdown."""
    for raw in reply.splitlines():
        line = _clean(_LABEL.sub("", raw)).strip(_QUOTES).strip()
        line = line.rstrip(".!:;,").strip(_QUOTES).strip()
        if line:
            return _shorten(line)
    return None


def titles_by_default(shared_credits: bool) -> bool:
    """Generated titles cost a call: on where the operator bills (shared credits),
    off where the org pays its own key (BYOK), until an admin says otherwise."""
    return shared_credits


def title_request(model: str, question: str) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": TITLE_MAX_TOKENS,
        "messages": [
            {"role": "system", "content": TITLE_INSTRUCTIONS},
            {"role": "user", "content": question[:QUESTION_CHARS]},
        ],
    }


class TitlePreference(Protocol):
    """Whether an org's admin wants generated titles (``store/chat_settings.py``)."""

    def generated_titles(self, org_id: str) -> bool: ...


class TitleMaker:
    """Asks the title model for a title, as the member, through the gateway."""

    def __init__(self, models: ChatModels, model: str) -> None:
        self.models = models
        self.model = model

    async def make(self, org_id: str, member_id: str, question: str) -> str | None:
        """A title, or None when the call is refused or fails (the first line stays)."""
        reply = ""
        try:
            async with self.models.chat_stream(
                org_id, member_id, title_request(self.model, question)
            ) as stream:
                async for piece in stream.deltas():
                    reply += piece
        except ChatGridError as refusal:
            log.info("no generated title: org=%s code=%s", org_id, refusal.code)
            return None
        except Exception:
            log.exception("the title call failed: org=%s", org_id)
            return None
        return generated_title(reply)
