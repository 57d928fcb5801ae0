"""FAQ suggestions in admin (conversations.admin_faq_suggestions): listed with what publishing would do, edited,
then published or dismissed; a decided one is read-only, and none is added by hand."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conversations.models import Conversation, FAQSuggestion, Message
from knowledge.models import FAQ
from knowledge.tests.factories import faq_create

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:conversations_faqsuggestion_changelist"


def suggestion(question: str, answer: str, *, language: str = "en", faq: FAQ | None = None,
               status: str = FAQSuggestion.Status.PENDING) -> FAQSuggestion:
    conversation = Conversation.objects.create(status=Conversation.Status.RESOLVED)
    message = Message.objects.create(conversation=conversation, role=Message.Role.AGENT, content=answer)
    return FAQSuggestion.objects.create(question=question, answer=answer, language=language, faq=faq,
                                        status=status, conversation=conversation, source_message=message)


def test_the_list_says_what_publishing_each_would_do(staff_client) -> None:
    faq = faq_create("运费多少钱?", "满199元包邮。", language="zh-hans", index=False)
    suggestion("Do you gift-wrap?", "Yes.")
    suggestion("邮费怎么算", "满199元包邮。", language="zh-hans", faq=faq)
    page = staff_client.get(reverse(CHANGELIST) + "?status__exact=pending").content.decode()
    assert "Do you gift-wrap?" in page and "a new FAQ entry" in page
    assert "an alternative phrasing of “运费多少钱?”" in page


def test_the_list_in_chinese(staff_client) -> None:
    suggestion("Do you gift-wrap?", "Yes.")
    page = staff_client.get(reverse(CHANGELIST), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "新的常见问题条目" in page and "常见问题建议" in page


def test_a_curator_edits_a_pending_suggestion_then_publishes_it(staff_client) -> None:
    item = suggestion("gift wrap??", "yes we do it for 5 CNY")
    url = reverse("admin:conversations_faqsuggestion_change", args=[item.pk])
    response = staff_client.post(url, {"question": "Do you gift-wrap orders?", "answer": "Yes, for 5 CNY.",
                                       "language": "en", "faq": ""})
    assert response.status_code == 302
    staff_client.post(reverse(CHANGELIST), {"action": "publish", "_selected_action": [item.pk]})
    faq = FAQ.objects.get()
    assert (faq.question, faq.answer, faq.published, faq.last_editor) == (
        "Do you gift-wrap orders?", "Yes, for 5 CNY.", True, staff_client.user)
    item.refresh_from_db()
    assert item.status == FAQSuggestion.Status.PUBLISHED and item.decided_by == staff_client.user


def test_a_decided_suggestion_is_read_only_and_none_is_added_by_hand(staff_client) -> None:
    item = suggestion("Do you gift-wrap?", "Yes.", status=FAQSuggestion.Status.DISMISSED)
    url = reverse("admin:conversations_faqsuggestion_change", args=[item.pk])
    staff_client.post(url, {"question": "Changed?", "answer": "Changed.", "language": "en", "faq": ""})
    item.refresh_from_db()
    assert item.question == "Do you gift-wrap?"
    assert staff_client.get(reverse("admin:conversations_faqsuggestion_add")).status_code == 403


def test_save_and_publish_publishes_the_edit_in_one_click(staff_client) -> None:
    faq = faq_create("How long does delivery take?", "Three days.", index=False)
    item = suggestion("delivery to canada how long", "ten days", faq=faq)
    url = reverse("admin:conversations_faqsuggestion_change", args=[item.pk])
    assert 'name="_publish"' in staff_client.get(url).content.decode()
    response = staff_client.post(url, {"question": "How long does delivery to Canada take?", "answer": "Ten days.",
                                       "language": "en", "faq": faq.pk, "_publish": "1"})
    assert response.status_code == 302 and response.url.endswith("?status__exact=pending")
    faq.refresh_from_db()
    assert faq.alternatives == "How long does delivery to Canada take?" and faq.answer == "Three days."
    item.refresh_from_db()
    assert item.status == FAQSuggestion.Status.PUBLISHED
    assert 'name="_publish"' not in staff_client.get(url).content.decode()  # decided: nothing to publish


def test_save_and_publish_is_not_offered_without_the_faqs_permissions(client) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    clerk = get_user_model().objects.create_user("clerk", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_faqsuggestion",
                                                                        "change_faqsuggestion"]))
    client.force_login(clerk)
    item = suggestion("Do you gift-wrap?", "Yes, for 5 CNY.")
    url = reverse("admin:conversations_faqsuggestion_change", args=[item.pk])
    assert 'name="_publish"' not in client.get(url).content.decode()
    client.post(url, {"question": "Do you gift-wrap?", "answer": "Yes.", "language": "en", "faq": "",
                      "_publish": "1"})
    item.refresh_from_db()
    assert item.status == FAQSuggestion.Status.PENDING and item.answer == "Yes." and not FAQ.objects.exists()
