"""A conversation written out for its owner: Markdown to read, JSON to keep or process.

Both carry what the page shows: who said what, with which model, when, the
sources an answer cited, and each answer's tokens and cost where the ledger
knows them. Money is integer micro-dollars (``cost_micros``) with a
formatted string beside it (``cost``), never a float.
"""

from __future__ import annotations

import re
from typing import Any

from chatgrid.chat.models import ChatMessage, Citation, Conversation, MessageUsage
from chatgrid.ledger.money import format_dollars

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def dollars(micros: int) -> str:
    return f"${format_dollars(micros)}"


def export_filename(conversation: Conversation, extension: str) -> str:
    """An ASCII file name from the title (any header-unsafe character dropped)."""
    stem = _UNSAFE_FILENAME.sub("-", conversation.title).strip("-.")[:60] or "conversation"
    return f"{stem}.{extension}"


def _usage(usage: MessageUsage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cost_micros": usage.cost_micros,
        "cost": dollars(usage.cost_micros),
        "estimated": usage.estimated,
    }


def _citation(citation: Citation) -> dict[str, Any]:
    return citation.to_dict()


def export_json(conversation: Conversation, messages: list[ChatMessage]) -> dict[str, Any]:
    used = [m.usage for m in messages if m.usage is not None]
    return {
        "conversation": {
            "id": conversation.id,
            "title": conversation.title,
            "model": conversation.model,
            "created_at": conversation.created_at.isoformat(),
            "updated_at": conversation.updated_at.isoformat(),
        },
        "messages": [
            {
                "id": m.id,
                "role": m.role,
                "content": m.content,
                "model": m.model,
                "status": m.status,
                "error": m.error,
                "created_at": m.created_at.isoformat(),
                "citations": [_citation(c) for c in m.citations],
                "usage": _usage(m.usage),
            }
            for m in messages
        ],
        "totals": {
            "prompt_tokens": sum(u.prompt_tokens for u in used),
            "completion_tokens": sum(u.completion_tokens for u in used),
            "cost_micros": sum(u.cost_micros for u in used),
            "cost": dollars(sum(u.cost_micros for u in used)),
        },
    }


def _when(message: ChatMessage) -> str:
    return message.created_at.strftime("%Y-%m-%d %H:%M UTC")


def _source(citation: Citation) -> str:
    where = citation.filename
    if citation.heading:
        where += f" — {citation.heading}"
    if citation.page is not None:
        where += f", page {citation.page}"
    return f"[{citation.n}] {where}"


def _answer_note(message: ChatMessage) -> str:
    parts = [message.model or "assistant", _when(message)]
    if message.status != "complete":
        parts.append(message.status)
    usage = message.usage
    if usage is not None:
        tokens = usage.prompt_tokens + usage.completion_tokens
        approx = "~" if usage.estimated else ""
        parts.append(f"{approx}{tokens:,} tokens, {dollars(usage.cost_micros)}")
    return " · ".join(parts)


def export_markdown(conversation: Conversation, messages: list[ChatMessage]) -> str:
    lines = [
        f"# {conversation.title}",
        "",
        f"_Started {conversation.created_at.strftime('%Y-%m-%d %H:%M UTC')}"
        + (f" · {conversation.model}_" if conversation.model else "_"),
    ]
    for message in messages:
        lines.append("")
        if message.role == "user":
            lines += [f"## You · {_when(message)}", "", message.content]
            continue
        lines += [f"## Answer · {_answer_note(message)}", "", message.content or "_(no text)_"]
        if message.error:
            lines += ["", f"> {message.error}"]
        if message.citations:
            lines += ["", "Sources:", ""]
            lines += [f"- {_source(c)}" for c in message.citations]
    return "\n".join(lines) + "\n"
