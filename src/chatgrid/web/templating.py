"""Jinja2 templates (autoescaped) and the filters the pages use."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from chatgrid.analytics.usage import units_text

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def format_when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_day(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d")


def format_money(micros: int | None) -> str:
    """Micro-dollars as dollars: 1_234_567 → $1.23 (cents are enough to read)."""
    if micros is None:
        return "—"
    return f"${micros / 1_000_000:,.2f}"


def format_number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def sentence(text: str) -> str:
    """A message as a sentence: capitalized, ending in a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def compact(value: object) -> str:
    """An audit detail as short text: JSON for nested values, plain text otherwise."""
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(", ", ": "), default=str)
    return str(value)


def inline_code(text: str) -> Markup:
    """Escaped text with `backticked` spans as <code> (the API description)."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))  # noqa: S704 (escaped first)


def iso_input(value: datetime | None) -> str:
    """A value for <input type=datetime-local>."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


class Templates:
    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            when=format_when,
            day=format_day,
            money=format_money,
            number=format_number,
            iso_input=iso_input,
            sentence=sentence,
            compact=compact,
            inline_code=inline_code,
        )
        # "2 images · 1024x1024/high": a call's (or a sum's) non-token units, on any page.
        self.env.globals["units_text"] = units_text

    def render(self, name: str, context: dict[str, Any]) -> str:
        return self.env.get_template(name).render(context)
