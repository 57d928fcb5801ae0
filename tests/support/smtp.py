"""A real SMTP server for the tests (aiosmtpd) on EMAIL_HOST:EMAIL_PORT (tests/settings.py picks the port, so the
Celery workers the tests start send to it too). It keeps every message it accepts; an address in `refuse` is
refused at RCPT with a 550, as a real server refuses an unknown mailbox."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from django.conf import settings


@dataclass
class Mailbox:
    received: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd calls handlers by the SMTP command's name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.received.append(message)  # type: ignore[arg-type]
        return "250 Message accepted"


@pytest.fixture(scope="session")
def _smtp_server() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname=settings.EMAIL_HOST, port=settings.EMAIL_PORT)
    controller.start()
    yield mailbox
    controller.stop()


@pytest.fixture
def smtp_server(_smtp_server: Mailbox, settings: Any) -> Mailbox:
    """The suite's SMTP server, emptied; this process sends to it by SMTP (pytest-django's default is memory)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    _smtp_server.received.clear()
    _smtp_server.refuse.clear()
    return _smtp_server
