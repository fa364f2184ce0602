"""A local SMTP server's inbox (the ``inbox`` fixture in ``tests/web/conftest.py`` runs it)."""

from __future__ import annotations

import email
from email.message import Message
from typing import Any


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"
