"""The admin's knowledge gaps and article health pages (conversations.admin.MessageAdmin): the same figures as the
console's, for staff who may view messages."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from conversations.models import Message
from conversations.tests.factories import bot_message_factory, conversation_factory, customer_message_factory
from knowledge.models import Article

pytestmark = pytest.mark.django_db

GAPS, HEALTH = "/admin/conversations/message/knowledge-gaps/", "/admin/conversations/message/article-health/"


@pytest.fixture(autouse=True)
def no_embedding_model(settings: Any, dead_ollama_url: str) -> None:
    settings.OLLAMA_HOSTS = [dead_ollama_url]


def declined(text: str) -> None:
    conversation = conversation_factory()
    question = customer_message_factory(conversation, text)
    bot_message_factory(conversation, "…", reply_to=question, answer_source=Message.AnswerSource.DECLINED)


@pytest.mark.parametrize("url", [GAPS, HEALTH])
def test_staff_who_may_not_view_messages_are_refused(client: Any, url: str) -> None:
    client.force_login(get_user_model().objects.create_user("clerk", password="pw", is_staff=True))
    assert client.get(url).status_code == 403


def test_the_admin_gaps_page_lists_topics_with_a_prefilled_draft_link(client: Any) -> None:
    declined("How do I get a refund?")
    declined("When will my refund arrive?")
    declined("退货要多久")
    client.force_login(get_user_model().objects.create_superuser("root", password="pw"))

    page = client.get(GAPS + "?days=30").content.decode()

    assert page.count('class="knowledge-gap"') == 2
    links = [html.unescape(href) for href in re.findall(r'class="button" href="([^"]+)"', page)]
    drafts = [parse_qs(urlsplit(link).query) for link in links]
    assert {draft["language"][0] for draft in drafts} == {"en", "zh-hans"}
    [english] = [draft for draft in drafts if draft["language"] == ["en"]]
    assert "- How do I get a refund?" in english["body"][0] and "- When will my refund arrive?" in english["body"][0]
    assert 'href="/admin/conversations/message/knowledge-gaps/"' in client.get(
        "/admin/knowledge/article/").content.decode()


def test_the_admin_article_health_page_lists_unused_articles(client: Any) -> None:
    long_ago = timezone.now() - timezone.timedelta(days=200)
    Article.objects.create(title="Gift cards", body="…", status="published", published_at=long_ago)
    client.force_login(get_user_model().objects.create_superuser("root", password="pw"))

    page = client.get(HEALTH).content.decode()

    unused = page.split("<h2>Articles no one cited in 90 days</h2>")[1].split("<h2>All articles</h2>")[0]
    assert "Gift cards" in unused
