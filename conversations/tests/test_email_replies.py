"""An agent's reply by email to a customer who left an address and is not in the chat, against a real SMTP server
(tests/support/smtp.py): in the customer's language, threaded per conversation, with a working transcript link;
a refusal recorded and shown to agents; nothing sent while the customer is there to read it."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from conversations.mail.compose import TRANSCRIPT, transcript_link
from conversations.models import Conversation, DeliveryStatus, EmailDelivery
from conversations.notices import notice_in
from conversations.selectors.inbox import conversation_for_agents
from conversations.services import contact, handoff, messages
from helpdesk.runtime import aio
from tests.support.faults import wait_for

from .factories import conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def away(reply_runner: str) -> tuple[Conversation, Any]:
    """A conversation whose customer wrote in Chinese, left an address off hours and closed the chat; Mei has it."""
    conversation = conversation_factory()
    customer_message_factory(conversation, "我的包裹到哪里了？")
    contact.contact_record(conversation=conversation, email="li.lei@example.test")
    agent = get_user_model().objects.create_user("mei", first_name="Mei")
    handoff.conversation_agent_join(conversation_id=conversation.pk, agent=agent)
    return conversation, agent


def delivered(count: int, timeout: float = 20) -> list[EmailDelivery]:
    def settled() -> list[EmailDelivery] | None:
        rows = list(EmailDelivery.objects.order_by("pk"))
        done = [row for row in rows if row.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)]
        return rows if len(done) >= count else None
    return wait_for(settled, timeout, interval=0.05)


def test_an_agents_replies_are_emailed_threaded_in_the_customers_language(away, smtp_server, client) -> None:
    conversation, agent = away
    first = messages.message_post_agent(conversation_id=conversation.pk, agent=agent, text="您的包裹今天发出。")
    delivered(1)
    second = messages.message_post_agent(conversation_id=conversation.pk, agent=agent, text="单号是 SF123。")
    rows = delivered(2)
    assert [row.status for row in rows] == [DeliveryStatus.DELIVERED] * 2
    one, two = wait_for(lambda: smtp_server.received if len(smtp_server.received) == 2 else None, 10)
    assert one["To"] == "li.lei@example.test" and one["From"] == "Shop Support <support@shop.example.test>"
    assert one["Subject"] == notice_in("zh-hans", "Reply to your conversation with our support team")
    assert one["Subject"] != "Reply to your conversation with our support team"  # translated, not the msgid
    assert one["Message-ID"] == rows[0].message_id_header and "In-Reply-To" not in one
    assert two["Subject"] == "Re: " + one["Subject"]
    assert two["In-Reply-To"] == one["Message-ID"] and two["References"] == one["Message-ID"]
    assert two["Message-ID"] not in (one["Message-ID"], None)
    body = one.get_content()
    assert "您的包裹今天发出。" in body and "Mei" in body
    assert notice_in("zh-hans", TRANSCRIPT, days=30) in body
    # The link is signed with the time it was made (it expires): the one in the email is opened.
    (link,) = re.findall(r"http://help\.example\.test/conversations/transcript/\S+", body)
    page = client.get(link.removeprefix("http://help.example.test"))
    assert page.status_code == 200 and "单号是 SF123。" in page.content.decode()
    assert (first.pk, second.pk) == (rows[0].message_id, rows[1].message_id)


def test_a_forged_or_changed_transcript_link_is_refused(away, client) -> None:
    conversation, _ = away
    path = transcript_link(conversation).removeprefix("http://help.example.test")
    assert client.get(path[:-2] + ("AA" if not path.endswith("AA") else "BB")).status_code == 404
    assert client.get("/conversations/transcript/" + str(conversation.pk)).status_code == 404


def test_a_refusing_server_fails_the_email_at_once_and_agents_see_why(away, smtp_server, admin_client) -> None:
    conversation, agent = away
    smtp_server.refuse.add("li.lei@example.test")
    reply = messages.message_post_agent(conversation_id=conversation.pk, agent=agent, text="Your parcel ships today.")
    (row,) = delivered(1)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)  # a 550 is final: not tried again
    assert "550" in row.error and "No such mailbox" in row.error
    assert not smtp_server.received
    # The console's conversation: the reply carries its email's status, which console.js marks.
    shown = next(m for m in conversation_for_agents(conversation_id=conversation.pk)["messages"] if m["id"] == reply.pk)
    assert shown["email"]["status"] == "failed" and "550" in shown["email"]["error"]
    page = admin_client.get(reverse("admin:conversations_emaildelivery_changelist")).content.decode()
    assert "No such mailbox" in page


@pytest.mark.embedded
def test_an_unreachable_server_is_tried_again_then_given_up(away, smtp_server, settings) -> None:
    from tests.support.environment import free_port

    settings.EMAIL_PORT = free_port()  # nothing listens: connection refused
    conversation, agent = away
    messages.message_post_agent(conversation_id=conversation.pk, agent=agent, text="Your parcel ships today.")
    (row,) = delivered(1)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, settings.EMAIL_MAX_ATTEMPTS)
    assert row.error.startswith(f"gave up after {settings.EMAIL_MAX_ATTEMPTS} tries: ConnectionRefusedError")


def test_no_email_without_an_address_or_with_email_replies_off(reply_runner, smtp_server, settings) -> None:
    agent = get_user_model().objects.create_user("mei", first_name="Mei")
    conversation = conversation_factory()
    handoff.conversation_agent_join(conversation_id=conversation.pk, agent=agent)
    messages.message_post_agent(conversation_id=conversation.pk, agent=agent, text="Hello?")
    settings.EMAIL_REPLIES = False
    contact.contact_record(conversation=conversation, email="li.lei@example.test")
    messages.message_post_agent(conversation_id=conversation.pk, agent=agent, text="Hello again?")
    assert not EmailDelivery.objects.exists()


async def test_no_email_while_the_customer_has_the_chat_open(away, smtp_server, chat) -> None:
    conversation, agent = away
    client, _ = await chat(conversation.token)
    await aio.db_call(messages.message_post_agent, conversation_id=conversation.pk, agent=agent, text="Still there?")
    await client.until("message")
    assert not await aio.db_call(EmailDelivery.objects.exists)
    await client.close()
    await aio.db_call(messages.message_post_agent, conversation_id=conversation.pk, agent=agent, text="Gone now?")
    rows = await aio.db_call(delivered, 1)
    assert [row.status for row in rows] == [DeliveryStatus.DELIVERED]
    assert [mail.get_content().count("Gone now?") for mail in smtp_server.received] == [1]


def test_a_transcript_link_expires(away, client, settings) -> None:
    conversation, _ = away
    path = transcript_link(conversation).removeprefix("http://help.example.test")
    assert client.get(path).status_code == 200
    settings.TRANSCRIPT_LINK_MAX_AGE_DAYS = 0
    time.sleep(1.1)  # signatures carry whole seconds
    response = client.get(path)
    assert response.status_code == 404 and "expired" in response.content.decode()
