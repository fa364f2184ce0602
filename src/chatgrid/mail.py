"""Sending email (invitations) through an SMTP server, with the standard library.

``smtplib`` blocks, so callers run ``send`` in a worker thread (the console's
handlers already run in one). Port 465 means TLS from the first byte;
otherwise STARTTLS upgrades the connection unless ``CHATGRID_SMTP_STARTTLS``
is false (a local relay).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

from chatgrid.errors import ChatGridError
from chatgrid.settings import Settings

log = logging.getLogger(__name__)


class MailFailed(ChatGridError):
    status = 502
    error_type = "upstream_error"
    default_code = "mail_failed"


class Mailer(Protocol):
    def send(self, *, to: str, subject: str, body: str) -> None: ...


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.username = settings.smtp_username
        self.password = settings.smtp_password
        self.sender = settings.smtp_from
        self.starttls = settings.smtp_starttls
        self.timeout = settings.smtp_timeout_seconds

    def send(self, *, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2].strip(">") or None)
        message.set_content(body)
        try:
            self._deliver(message)
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("sending mail through %s:%d failed: %s", self.host, self.port, exc)
            raise MailFailed(
                f"the email could not be sent through the SMTP server ({type(exc).__name__}); "
                "check the SMTP settings"
            ) from None

    def _deliver(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.port == 465:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo()
            if self.starttls and self.port != 465:
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username:
                password = self.password.get_secret_value() if self.password else ""
                smtp.login(self.username, password)
            smtp.send_message(message)


def mailer_from_settings(settings: Settings) -> Mailer | None:
    return SmtpMailer(settings) if settings.smtp_configured else None
