"""Staff can look at conversations, messages and LLM calls in admin, and change nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conversations.models import LLMCall

from .factories import bot_message_factory, conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db




def test_changelists_and_detail_pages_render(staff_client) -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation, "包裹在哪里?")
    reply = bot_message_factory(conversation, "In transit.", reply_to=question, model_name="deepseek-r1:7b")
    LLMCall.objects.create(conversation=conversation, message=reply, model_name="deepseek-r1:7b", outcome="ok")
    for name in ("conversation", "message", "llmcall"):
        response = staff_client.get(reverse(f"admin:conversations_{name}_changelist"))
        assert response.status_code == 200
    page = staff_client.get(reverse("admin:conversations_conversation_change", args=[conversation.pk]))
    assert page.status_code == 200 and "包裹在哪里?" in page.content.decode()
    assert conversation.token not in page.content.decode()


def test_admin_offers_no_add_or_delete(staff_client) -> None:
    assert staff_client.get(reverse("admin:conversations_message_add")).status_code == 403
    conversation = conversation_factory()
    response = staff_client.post(reverse("admin:conversations_conversation_delete", args=[conversation.pk]))
    assert response.status_code == 403


def test_conversation_api_creates_a_conversation_with_its_socket_path(client) -> None:
    response = client.post("/api/v1/conversations", HTTP_ORIGIN="http://127.0.0.1:8000")
    body = response.json()
    assert response.status_code == 201
    assert body["websocket"] == f"/ws/chat/{body['token']}/" and len(body["token"]) >= 43
    assert response["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"


def test_conversation_api_refuses_get(client) -> None:
    assert client.get("/api/v1/conversations").status_code == 405


def test_demo_page_embeds_the_widget_with_one_tag(client) -> None:
    page = client.get("/").content.decode()
    assert '<script src="http://testserver/static/widget.js" data-helpdesk-url="http://testserver" async>' in page


def test_message_admin_shows_how_a_reply_was_made_and_what_it_cited(staff_client) -> None:
    from conversations.models import Message

    reply = bot_message_factory(
        conversation_factory(), "Free over ¥199.", answer_source=Message.AnswerSource.LLM,
        sources=[
            {"n": 1, "title": "Shipping and delivery", "cited": True},
            {"n": 2, "title": "Returns", "cited": False},
        ],
    )
    page = staff_client.get(reverse("admin:conversations_message_changelist")).content.decode()
    assert "Shipping and delivery" in page and "Returns" not in page
    detail = staff_client.get(reverse("admin:conversations_message_change", args=[reply.pk])).content.decode()
    assert "Shipping and delivery" in detail
