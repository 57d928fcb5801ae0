"""What conversations does when the core signals it (helpdesk.signals): the core imports no app."""

from __future__ import annotations

import pytest

from conversations.models import Message
from helpdesk.management.commands.serve import Command
from helpdesk.signals import serve_starting

from .factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db


def test_serve_starting_fails_the_replies_the_last_stop_abandoned_and_says_so(settings) -> None:
    settings.EMBEDDED = True  # every streaming reply died with the process
    conversation = conversation_factory()
    question = customer_message_factory(conversation)
    abandoned = bot_message_factory(conversation, "half", reply_to=question, status=Message.Status.STREAMING)
    lines = [line for _receiver, line in serve_starting.send(sender=Command) if line]
    abandoned.refresh_from_db()
    assert abandoned.status == Message.Status.FAILED
    assert lines == ["Closed 1 reply(ies) interrupted by the last stop as failed; handed to a person."]


def test_serve_starting_says_nothing_when_no_reply_was_abandoned(settings) -> None:
    settings.EMBEDDED = True
    assert [line for _receiver, line in serve_starting.send(sender=Command) if line] == []
