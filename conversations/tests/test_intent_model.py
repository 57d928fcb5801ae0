"""The intent model after the rules (INTENT_MODEL): used when set, within its time budget, never in the way."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from conversations.intents import classify
from conversations.models import Conversation, Message
from conversations.pipeline.intent import INTENT_SCHEMA, intent_ask_model
from conversations.pipeline.reply import reply_generate
from knowledge.tests.factories import knowledge_base_create
from tests.fake_ollama import Reply

from .factories import conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db(transaction=True)

MODEL = "deepseek-r1:7b"  # a model the fake serves


@pytest.fixture
def intent_model(settings):
    settings.INTENT_MODEL = MODEL
    settings.INTENT_TIMEOUT_S = 5
    return settings


def customer_says(text: str) -> Message:
    found = classify(text, product_names=[])
    return customer_message_factory(conversation_factory(), text, intent=found.intent, intent_source=found.source,
                                    entities=found.entities)


def model_says(intent: str, entities: list[dict] | None = None, **reply: object) -> Reply:
    return Reply(content=json.dumps({"intent": intent, "entities": entities or []}), **reply)


def test_the_model_refines_the_rules_intent_and_adds_what_it_found(fake_ollama, intent_model) -> None:
    knowledge_base_create()
    question = customer_says("The kettle I got last week leaks. Which cards do you accept for a new one?")
    assert question.intent == "question"
    fake_ollama.script(model_says("refund", [{"kind": "product", "text": "kettle"}]), Reply(content="Yes [1]."))
    reply = reply_generate(customer_message_id=question.pk)
    question.refresh_from_db()
    assert (question.intent, question.intent_source) == ("refund", "model")
    assert question.entities == [{"kind": "product", "text": "kettle", "value": "kettle"}]
    classifying, generating = fake_ollama.chat_requests()
    assert classifying.body["format"] == INTENT_SCHEMA and classifying.body["model"] == MODEL
    assert "product: kettle" in generating.body["messages"][-1]["content"]
    assert reply.status == Message.Status.COMPLETE


def test_entities_the_message_does_not_contain_are_dropped(fake_ollama, intent_model) -> None:
    question = customer_says("my parcel is lost")
    fake_ollama.script(model_says("order_status", [{"kind": "phone", "text": "+1 555 0100"}]))
    classified = intent_ask_model(question)
    assert classified.intent == "order_status" and classified.entities == []


@pytest.mark.parametrize(
    "answer",
    [
        Reply(content="order_status, probably"),  # not JSON
        Reply(content='{"intent": "angry", "entities": []}'),  # not one of the intents
        Reply(content='{"intent": "refund", "entities": "none"}'),  # entities not a list
        Reply(content='{"intent": "person", "entities": []}', ttft=2.0),  # too late
        Reply(status=500, error="model crashed"),
    ],
)
def test_a_bad_or_late_answer_leaves_the_rules_result(fake_ollama, intent_model, answer) -> None:
    intent_model.INTENT_TIMEOUT_S = 0.3
    question = customer_says("can I use the tea tray on a wooden table?")
    fake_ollama.script(answer, Reply(content="[NO-ANSWER] A colleague will help."))
    reply = reply_generate(customer_message_id=question.pk)
    question.refresh_from_db()
    assert (question.intent, question.intent_source) == ("question", "rules")
    assert reply.status == Message.Status.COMPLETE and reply.content  # the reply went ahead


@pytest.mark.parametrize(("intent", "reason"), [("person", "customer_request"), ("complaint", "complaint")])
def test_a_person_or_complaint_from_the_model_hands_off_instead_of_answering(
    fake_ollama, intent_model, intent, reason
) -> None:
    question = customer_says("hmm this again... can somebody sort it")
    fake_ollama.script(model_says(intent), Reply(content="Here is an answer."))
    reply = reply_generate(customer_message_id=question.pk)
    conversation = Conversation.objects.get(pk=question.conversation_id)
    assert conversation.status == Conversation.Status.WAITING_HUMAN and conversation.handoff_reason == reason
    assert len(fake_ollama.chat_requests()) == 1  # nothing generated
    assert reply.status == Message.Status.CANCELLED and reply.content == ""


def test_the_model_is_not_asked_when_the_rules_settled_it(fake_ollama, intent_model) -> None:
    assert intent_ask_model(customer_says("Absolute scam, I'm furious")) is None
    assert fake_ollama.chat_requests() == []


def test_without_a_model_only_the_rules_run(fake_ollama, settings) -> None:
    settings.INTENT_MODEL = ""
    question = customer_says("can I use the tea tray on a wooden table?")
    fake_ollama.script(Reply(content="[NO-ANSWER] A colleague will help."))
    reply_generate(customer_message_id=question.pk)
    assert ["format" in request.body for request in fake_ollama.chat_requests()] == [False]


def test_the_admin_says_which_intent_detection_is_in_force(staff_client, settings) -> None:
    settings.INTENT_MODEL = ""
    page = staff_client.get(reverse("admin:conversations_message_changelist")).content.decode()
    assert "Intent detection: rules only (INTENT_MODEL is not set)" in page
    settings.INTENT_MODEL = "qwen2.5:0.5b"
    page = staff_client.get(reverse("admin:conversations_message_changelist")).content.decode()
    assert "qwen2.5:0.5b" in page and "rules only" not in page
