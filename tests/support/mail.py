"""A local SMTP server's inbox (the ``inbox`` fixture in ``tests/web/conftest.py`` runs it).

``running_inbox`` starts one (aiosmtpd on a free port) for tests elsewhere;
``Inbox.to`` and ``link_in`` read what ChatGrid sent, as its reader would.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.processes import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        """Every message sent to ``address``, oldest first."""
        return [message for recipients, message in self.messages if address in recipients]

    def last_to(self, address: str) -> Message:
        sent = self.to(address)
        assert sent, f"no email was sent to {address}"
        return sent[-1]


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def link_in(message: Message, base: str, path: str) -> str:
    """The path (``/password/reset/cgr_…``) of the one link under ``base + path`` in a message."""
    found = re.findall(re.escape(base) + "(" + re.escape(path) + r"\S+)", body_of(message))
    assert len(found) == 1, f"expected one {path} link in: {body_of(message)!r}"
    return str(found[0])


#: The public URL of an in-process console (what Starlette's test client calls).
TEST_SERVER = "http://testserver"


def mail_settings(port: int, public_url: str = TEST_SERVER) -> dict[str, Any]:
    """Settings that make an instance mail through the local SMTP server on ``port``."""
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_starttls": False,
        "smtp_from": "ChatGrid <noreply@chatgrid.test>",
        "public_url": public_url,
    }


def as_env(settings: dict[str, Any]) -> dict[str, str]:
    """The same settings as a ``chatgrid serve`` process reads them."""
    return {f"CHATGRID_{name.upper()}": str(value) for name, value in settings.items()}


@contextmanager
def running_inbox() -> Iterator[tuple[Inbox, int]]:
    """A local SMTP server collecting every message; its inbox and port."""
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
