"""Signed webhooks against a real HTTP receiver (tests/support/webhooks.py) that checks every signature: delivered,
retried with backoff, given up with the log saying so, bounded by its timeout, never redirected, only the events
an endpoint wants; and a customer's reply never waits for a receiver that hangs. In production mode the session's
real Celery worker delivers them; in embedded mode threads of this process do."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from conversations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from conversations.services import handoff
from conversations.services.identity import conversation_create
from conversations.webhooks.signing import SignatureInvalid, signature_header, signature_verify
from helpdesk.runtime import aio
from tests.fake_ollama import Reply
from tests.support.faults import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def endpoint_make(receiver: Any, events: list[str], *, url: str = "", secret: str = "", **fields: Any) -> Any:
    return WebhookEndpoint.objects.create(name="shop", url=url or receiver.url, secret=secret or receiver.secret,
                                          events=events, **fields)


def delivery_settled(endpoint: WebhookEndpoint, timeout: float = 20) -> WebhookDelivery:
    """The endpoint's one delivery once it is delivered or given up."""
    def settled() -> WebhookDelivery | None:
        found = WebhookDelivery.objects.filter(endpoint=endpoint).first()
        return found if found and found.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED) else None
    return wait_for(settled, timeout, interval=0.05)


# --- the signature -------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=False)
def test_a_signature_checks_with_its_secret_only_and_only_while_fresh() -> None:
    body = '{"type":"test","text":"你好"}'.encode()
    header = signature_header("s3cret-s3cret-s3cret", body, timestamp=1_700_000_000)
    assert signature_verify("s3cret-s3cret-s3cret", header, body, now=1_700_000_100) == 1_700_000_000
    for secret, changed, now in (("another-secret-value", body, 1_700_000_100),
                                 ("s3cret-s3cret-s3cret", body + b" ", 1_700_000_100),
                                 ("s3cret-s3cret-s3cret", body, 1_700_000_000 + 301)):
        with pytest.raises(SignatureInvalid):
            signature_verify(secret, header, changed, now=now)
    with pytest.raises(SignatureInvalid):
        signature_verify("s3cret-s3cret-s3cret", "v1=abc", body)


def test_an_event_is_delivered_signed_to_the_endpoint_and_logged(webhook_receiver, reply_runner) -> None:
    endpoint = endpoint_make(webhook_receiver, [WebhookEvent.CONVERSATION_CREATED])
    conversation = conversation_create()
    delivery = delivery_settled(endpoint)
    assert delivery.status == DeliveryStatus.DELIVERED, delivery.error
    (received,) = webhook_receiver.requests
    assert received.signature_ok, received.signature_error
    assert received.headers["Helpdesk-Event"] == "conversation.created"
    assert received.headers["Helpdesk-Delivery"] == str(delivery.event_id) == received.payload["id"]
    assert received.payload["data"]["conversation"]["id"] == conversation.pk
    assert (delivery.attempts, delivery.response_code, delivery.error) == (1, 200, "")
    assert delivery.duration_ms is not None and delivery.delivered_at is not None and delivery.next_retry_at is None


def test_a_receiver_with_another_secret_finds_the_signature_wrong(webhook_receiver, reply_runner) -> None:
    endpoint = endpoint_make(webhook_receiver, [WebhookEvent.CONVERSATION_CREATED],
                             secret="not-the-receivers-secret-0000")
    conversation_create()
    delivery_settled(endpoint)
    (received,) = webhook_receiver.requests
    assert not received.signature_ok and received.signature_error == "no v1 signature matches"


def test_only_the_events_an_active_endpoint_wants_are_sent(webhook_receiver, reply_runner) -> None:
    wants = endpoint_make(webhook_receiver, [WebhookEvent.CONVERSATION_CREATED, WebhookEvent.HANDOFF])
    joined = endpoint_make(webhook_receiver, [WebhookEvent.AGENT_JOINED], url=webhook_receiver.url + "?joined")
    endpoint_make(webhook_receiver, [event for event, _ in WebhookEvent.choices], url=webhook_receiver.url + "?off",
                  active=False)
    agent = get_user_model().objects.create_user("mei", first_name="Mei")
    conversation = conversation_create()
    handoff.conversation_request_human(conversation=conversation)
    handoff.conversation_agent_join(conversation_id=conversation.pk, agent=agent)
    wait_for(lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 3, 20, 0.05)
    sent = {(r.path, r.payload["type"]) for r in webhook_receiver.requests}
    assert sent == {("/hook", "conversation.created"), ("/hook", "conversation.handoff"),
                    ("/hook?joined", "conversation.agent_joined")}
    assert WebhookDelivery.objects.filter(endpoint=wants).count() == 2
    assert WebhookDelivery.objects.get(endpoint=joined).payload["data"]["conversation"]["agent"]["name"] == "mei"
    assert WebhookDelivery.objects.count() == 3  # the inactive endpoint got nothing queued


@pytest.mark.django_db(transaction=False)
def test_an_event_no_active_endpoint_wants_reads_nothing_for_its_payload(django_assert_num_queries) -> None:
    from conversations.models import Conversation
    from conversations.webhooks.emit import endpoints_active, webhook_on_commit

    WebhookEndpoint.objects.create(name="shop", url="https://hooks.example/in", secret="s" * 20,
                                   events=[WebhookEvent.BOT_REPLY])
    WebhookEndpoint.objects.create(name="off", url="https://hooks.example/off", secret="s" * 20,
                                   events=[WebhookEvent.CUSTOMER_MESSAGE], active=False)
    agent = get_user_model().objects.create_user("mei")
    Conversation.objects.filter(pk=conversation_create().pk).update(agent=agent)
    conversation = Conversation.objects.get(agent=agent)  # its agent not loaded: a payload would read the row
    endpoints_active()  # kept from now on, as in a process that has served a message
    with django_assert_num_queries(0):
        webhook_on_commit(WebhookEvent.CUSTOMER_MESSAGE, conversation=conversation)
    with django_assert_num_queries(1):  # wanted: the payload names the agent
        webhook_on_commit(WebhookEvent.BOT_REPLY, conversation=conversation)


def test_an_endpoint_saved_in_one_process_is_seen_by_the_next_event_in_another() -> None:
    from conversations.webhooks.emit import endpoints_active, endpoints_kept
    from helpdesk.runtime.versioned import Versioned

    worker = Versioned(endpoints_kept.name, endpoints_kept.load)  # another process's copy
    assert worker.get() == []
    endpoint = WebhookEndpoint.objects.create(name="shop", url="https://hooks.example/in", secret="s" * 20,
                                              events=[WebhookEvent.HANDOFF])
    assert worker.get() == [(endpoint.pk, [WebhookEvent.HANDOFF])]
    endpoint.active = False
    endpoint.save()
    assert worker.get() == [] and endpoints_active() == []


def test_a_delivery_answered_500_is_retried_with_backoff_and_then_delivered(webhook_receiver, reply_runner) -> None:
    webhook_receiver.plan = [500]
    endpoint = endpoint_make(webhook_receiver, [WebhookEvent.CONVERSATION_CREATED])
    conversation_create()
    delivery = delivery_settled(endpoint)
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.DELIVERED, 2, 200)
    first, second = webhook_receiver.requests
    assert first.signature_ok and second.signature_ok
    assert first.headers["Helpdesk-Delivery"] == second.headers["Helpdesk-Delivery"]  # the receiver can dedupe
    assert second.started - first.started >= settings.WEBHOOK_BACKOFF_BASE_S


def test_a_delivery_is_given_up_after_the_most_attempts_and_the_log_says_why(webhook_receiver, reply_runner) -> None:
    webhook_receiver.otherwise = 500
    endpoint = endpoint_make(webhook_receiver, [WebhookEvent.CONVERSATION_CREATED])
    conversation_create()
    delivery = delivery_settled(endpoint, timeout=30)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == settings.WEBHOOK_MAX_ATTEMPTS == len(webhook_receiver.requests)
    assert delivery.response_code == 500 and delivery.next_retry_at is None
    assert delivery.error.startswith(f"gave up after {settings.WEBHOOK_MAX_ATTEMPTS} tries: HTTP 500")
    assert "receiver says no" in delivery.error  # the start of the receiver's answer, for the operator


def test_a_hanging_endpoint_is_given_up_at_the_timeout_and_tried_again(webhook_receiver, reply_runner) -> None:
    webhook_receiver.plan = ["hang"]
    endpoint = endpoint_make(webhook_receiver, [WebhookEvent.CONVERSATION_CREATED])
    started = time.monotonic()
    conversation_create()
    delivery = delivery_settled(endpoint, timeout=webhook_receiver.hang_s - 5)
    took = time.monotonic() - started
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert settings.WEBHOOK_TIMEOUT_S <= took < webhook_receiver.hang_s - 5
    assert webhook_receiver.requests[0].finished is None  # still held by the receiver: the sender gave up


def test_a_redirect_is_not_followed_and_fails_the_delivery_at_once(webhook_receiver, reply_runner) -> None:
    webhook_receiver.otherwise = "redirect"
    endpoint = endpoint_make(webhook_receiver, [WebhookEvent.CONVERSATION_CREATED])
    conversation_create()
    delivery = delivery_settled(endpoint)
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.FAILED, 1, 302)
    assert "redirects are not followed" in delivery.error and "/elsewhere" in delivery.error
    assert [request.path for request in webhook_receiver.requests] == ["/hook"]


def test_the_admin_sends_a_test_event_and_lists_the_delivery(webhook_receiver, reply_runner, admin_client) -> None:
    endpoint = endpoint_make(webhook_receiver, [])
    changelist = reverse("admin:conversations_webhookendpoint_changelist")
    response = admin_client.post(changelist, {"action": "send_test_event", "_selected_action": [endpoint.pk]})
    assert response.status_code == 302
    delivery = delivery_settled(endpoint)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.event == "test"
    assert webhook_receiver.requests[0].signature_ok
    log = admin_client.get(reverse("admin:conversations_webhookdelivery_changelist")).content.decode()
    assert "Delivered" in log and "test" in log


def test_the_admin_keeps_the_secret_out_of_sight_and_refuses_a_short_one(admin_client) -> None:
    add = reverse("admin:conversations_webhookendpoint_add")
    form = {"name": "crm", "url": "https://crm.example.test/hook", "secret": "short", "events": ["message.customer"],
            "active": "on"}
    assert "at least 16 characters" in admin_client.post(add, form).content.decode()
    admin_client.post(add, {**form, "secret": "a-long-enough-secret-value"})
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == "a-long-enough-secret-value" and endpoint.events == ["message.customer"]
    change = reverse("admin:conversations_webhookendpoint_change", args=[endpoint.pk])
    assert "a-long-enough-secret-value" not in admin_client.get(change).content.decode()
    admin_client.post(change, {**form, "secret": "", "name": "crm2"})  # empty: the stored secret is kept
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.secret) == ("crm2", "a-long-enough-secret-value")


async def test_a_customers_reply_completes_while_the_receiver_hangs(
    chat, fake_ollama, reply_runner, webhook_receiver
) -> None:
    # The reply takes a second (its first token waits 0.8 s): the receiver is holding its event meanwhile.
    fake_ollama.script(Reply(content="Warm."), Reply(content="It ships today.", ttft=0.8))
    conversation = await aio.db_call(conversation_create)
    client, _ = await chat(conversation.token)
    await client.send({"type": "message", "text": "Hello there, is anyone around?", "client_id": "w-0"})
    await client.until("done")  # the worker is warm: what follows measures the webhook's effect only
    webhook_receiver.otherwise = "hang"
    endpoint = await aio.db_call(endpoint_make, webhook_receiver, [WebhookEvent.CUSTOMER_MESSAGE])
    sent = time.monotonic()
    await client.send({"type": "message", "text": "When does my parcel ship?", "client_id": "w-1"})
    done = await client.until("done")
    finished = time.monotonic()
    await client.close()
    assert done["message"]["content"] == "It ships today."
    # The receiver holds the customer-message event for WEBHOOK_TIMEOUT_S; the reply did not wait for it.
    assert finished - sent < settings.WEBHOOK_TIMEOUT_S
    hung = wait_for(lambda: webhook_receiver.requests, 10, 0.05)[0]
    assert hung.payload["type"] == "message.customer" and hung.started < finished
    endpoint.active = False  # its retries end at their next try
    await aio.db_call(endpoint.save)


def test_a_delivery_whose_task_was_lost_is_queued_again_by_the_sweep(webhook_receiver, reply_runner) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from conversations.outbound_sweep import outbound_stale_resend
    from conversations.webhooks.emit import payload_make

    endpoint = endpoint_make(webhook_receiver, [WebhookEvent.CONVERSATION_CREATED])
    lost = WebhookDelivery.objects.create(endpoint=endpoint, event="test", payload=payload_make("test", {}))
    fresh = WebhookDelivery.objects.create(endpoint=endpoint, event="test", payload=payload_make("test", {}))
    WebhookDelivery.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert outbound_stale_resend(older_than_s=300) == {"webhooks": 1, "emails": 0}
    assert outbound_stale_resend(older_than_s=300) == {"webhooks": 0, "emails": 0}  # queued: not twice
    wait_for(lambda: WebhookDelivery.objects.filter(pk=lost.pk, status=DeliveryStatus.DELIVERED).exists(), 20)
    assert WebhookDelivery.objects.get(pk=fresh.pk).status == DeliveryStatus.PENDING  # not late yet
    assert [request.headers["Helpdesk-Delivery"] for request in webhook_receiver.requests] == [str(lost.event_id)]


def test_every_event_is_sent_from_where_it_happens(webhook_receiver, reply_runner, fake_ollama) -> None:
    from conversations.models import Message
    from conversations.services import feedback, messages

    fake_ollama.script(Reply(content="It ships today."))
    endpoint_make(webhook_receiver, [event for event, _ in WebhookEvent.choices if event != WebhookEvent.TEST])
    agent = get_user_model().objects.create_user("mei", first_name="Mei")
    conversation = conversation_create()
    question, _ = messages.message_post_customer(conversation=conversation, text="When does my parcel ship?",
                                                 client_id="c-1")
    reply = wait_for(lambda: Message.objects.filter(conversation=conversation, role=Message.Role.BOT,
                                                    status=Message.Status.COMPLETE).first(), 20)
    feedback.feedback_record(conversation=conversation, message_id=reply.pk, rating=1, comment="quick")
    handoff.conversation_request_human(conversation=conversation)
    handoff.conversation_agent_join(conversation_id=conversation.pk, agent=agent)
    handoff.conversation_resolve(conversation_id=conversation.pk, agent=agent)
    conversation.refresh_from_db()
    feedback.csat_record(conversation=conversation, score=5, comment="thanks")
    wait_for(lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 8, 20, 0.05)
    by_type = {request.payload["type"]: request.payload["data"] for request in webhook_receiver.requests}
    assert set(by_type) == {event for event, _ in WebhookEvent.choices if event != WebhookEvent.TEST}
    assert all(request.signature_ok for request in webhook_receiver.requests)
    assert by_type["message.customer"]["message"] | {"created_at": None} == {
        "id": question.pk, "role": "customer", "status": "complete", "text": "When does my parcel ship?",
        "created_at": None}
    assert by_type["message.bot_reply"]["message"]["text"] == "It ships today."
    assert by_type["message.feedback"]["feedback"] == {"rating": 1, "comment": "quick"}
    assert by_type["conversation.csat"]["conversation"]["csat"] == {"score": 5, "comment": "thanks"}
    assert by_type["conversation.resolved"]["conversation"]["status"] == "resolved"
    assert {data["conversation"]["id"] for data in by_type.values()} == {conversation.pk}


def test_a_huge_answer_is_read_only_up_to_its_bound(webhook_receiver, reply_runner) -> None:
    from tests.support.webhooks import HUGE_BYTES

    webhook_receiver.plan = ["huge"]
    endpoint = endpoint_make(webhook_receiver, [WebhookEvent.CONVERSATION_CREATED])
    conversation_create()
    delivery = delivery_settled(endpoint)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    first = wait_for(lambda: webhook_receiver.requests[0].finished and webhook_receiver.requests[0], 10)
    # The sender hung up after WEBHOOK_RESPONSE_MAX_BYTES (and what the sockets' buffers held), not 50 MB later.
    assert first.written < HUGE_BYTES / 2


def test_an_endpoint_that_does_not_answer_is_paused_and_its_other_events_wait(webhook_receiver, reply_runner) -> None:
    webhook_receiver.otherwise = "hang"
    endpoint = endpoint_make(webhook_receiver, [WebhookEvent.CONVERSATION_CREATED])
    first = conversation_create()
    wait_for(lambda: WebhookDelivery.objects.filter(endpoint=endpoint, attempts=1).exists(), 10, 0.05)
    conversation_create()
    # Within the pause (WEBHOOK_PAUSE_S): the second event, and the first one's retry, wait without a try.
    waiting = wait_for(lambda: WebhookDelivery.objects.filter(endpoint=endpoint, attempts=0,
                                                              status=DeliveryStatus.RETRYING).first(), 1.5, 0.05)
    assert "did not answer" in waiting.error and waiting.next_retry_at is not None
    assert len(webhook_receiver.requests) == 1
    assert webhook_receiver.requests[0].payload["data"]["conversation"]["id"] == first.pk
    webhook_receiver.otherwise = 200
    webhook_receiver.released.set()  # the receiver answers again: after the pause both are delivered
    wait_for(lambda: WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.DELIVERED).count() == 2,
             settings.WEBHOOK_PAUSE_S + 10, 0.1)
