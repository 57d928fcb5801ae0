"""The console's knowledge gaps and article health pages (agents.views, agents.knowledge): who may see them, what
they show in English and Chinese, and the "write an article" link that prefills the admin's add form."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from agents.tests.console import agent_create
from conversations.models import Conversation, Feedback, Message
from conversations.tests.factories import bot_message_factory, conversation_factory, customer_message_factory
from knowledge.models import Article

pytestmark = pytest.mark.django_db

PAGES = ["/console/gaps/", "/console/articles/"]


@pytest.fixture(autouse=True)
def no_embedding_model(settings: Any, dead_ollama_url: str) -> None:
    """No Ollama answers: the gaps are grouped by keywords (conversations/tests/test_gaps.py tests both modes)."""
    settings.OLLAMA_HOSTS = [dead_ollama_url]


def declined(text: str, *, article: Article | None = None, days_ago: int = 0) -> Message:
    conversation = conversation_factory()
    question = customer_message_factory(conversation, text)
    sources = [{"n": 1, "article_id": article.pk, "title": article.title, "cited": False}] if article else []
    reply = bot_message_factory(conversation, "…", reply_to=question, sources=sources,
                                answer_source=Message.AnswerSource.DECLINED)
    if days_ago:
        Message.objects.filter(conversation=conversation).update(
            created_at=timezone.now() - timezone.timedelta(days=days_ago))
    return reply


def curator(client: Any, *, can_write: bool = True) -> Any:
    user = agent_create("curator", staff=True)
    if can_write:
        user.user_permissions.add(Permission.objects.get(codename="add_article"))
    client.force_login(user)
    return user


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_are_sent_to_the_sign_in(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith("/console/login/")


@pytest.mark.parametrize("url", PAGES)
def test_staff_who_are_not_agents_are_refused(client: Any, url: str) -> None:
    client.force_login(agent_create("admin-clerk", staff=True, in_group=False))
    assert client.get(url).status_code == 403


def test_the_gaps_page_shows_each_topic_with_its_questions_and_articles_tried(client: Any) -> None:
    returns = Article.objects.create(title="Returns policy", body="…")
    declined("退货要多久", article=returns)
    declined("退货要多久才能到账", article=returns)
    declined("Do you offer gift wrapping?")
    curator(client)

    page = client.get("/console/gaps/?lang=zh-hans&period=30d").content.decode()

    assert "知识缺口" in page and "退货要多久才能到账" in page and "Do you offer gift wrapping?" in page
    assert "Returns policy" in page and f"/admin/knowledge/article/{returns.pk}/change/" in page
    assert page.count('class="hc-gap"') == 2
    assert 'aria-current="page">最近 30 天' in page


def test_the_period_limits_the_questions(client: Any) -> None:
    declined("Do you offer gift wrapping?", days_ago=20)
    curator(client)

    assert "gift wrapping" not in client.get("/console/gaps/?lang=en").content.decode()
    assert "gift wrapping" in client.get("/console/gaps/?lang=en&period=30d").content.decode()


def test_write_an_article_opens_the_admin_form_prefilled_with_the_questions(client: Any) -> None:
    declined("电子发票在哪里下载")
    declined("电子发票可以改抬头吗")
    curator(client)
    page = client.get("/console/gaps/?lang=en").content.decode()
    [link] = [html.unescape(href) for href in re.findall(r'class="hc-button hc-gap-write" href="([^"]+)"', page)]
    params = parse_qs(urlsplit(link).query)
    assert urlsplit(link).path == "/admin/knowledge/article/add/"
    assert params["title"][0] in ("电子发票在哪里下载", "电子发票可以改抬头吗")
    assert "- 电子发票在哪里下载" in params["body"][0] and "- 电子发票可以改抬头吗" in params["body"][0]
    assert params["language"] == ["zh-hans"]

    client.force_login(get_user_model().objects.create_superuser("root", password="pw"))
    form = client.get(link).content.decode()

    assert f'value="{params["title"][0]}"' in form and "- 电子发票可以改抬头吗" in form
    assert '<option value="zh-hans" selected>' in form


def test_agents_who_may_not_add_articles_get_no_write_button(client: Any) -> None:
    declined("Do you offer gift wrapping?")
    curator(client, can_write=False)

    page = client.get("/console/gaps/").content.decode()

    assert "gift wrapping" in page and "hc-gap-write" not in page


def test_the_article_health_page_lists_bad_and_unused_articles(client: Any, settings: Any) -> None:
    settings.ARTICLE_BAD_MIN_CITED, settings.ARTICLE_BAD_RATE = 2, 0.5
    long_ago = timezone.now() - timezone.timedelta(days=200)
    bad = Article.objects.create(title="Warranty", body="…", status="published", published_at=long_ago)
    Article.objects.create(title="配送范围", body="…", status="published", published_at=long_ago)
    for rating in (-1, -1):
        conversation = conversation_factory()
        question = customer_message_factory(conversation, "Warranty?")
        reply = bot_message_factory(conversation, "Two years [1].", reply_to=question,
                                    answer_source=Message.AnswerSource.LLM,
                                    sources=[{"n": 1, "article_id": bad.pk, "title": bad.title, "cited": True}])
        Feedback.objects.create(conversation=conversation, message=reply, rating=rating)
    Conversation.objects.update(status=Conversation.Status.BOT)
    curator(client)

    page = client.get("/console/articles/?lang=zh-hans").content.decode()

    bad_part, rest = page.split('id="hc-unused-title"')
    unused_part, _all = rest.split('id="hc-all-title"')
    assert "Warranty" in bad_part and "配送范围" not in bad_part
    assert "配送范围" in unused_part and "Warranty" not in unused_part
    assert "↑ 0 / ↓ 2" in bad_part and "100 %" in bad_part
    assert "文章健康度" in page


@pytest.mark.parametrize("url", PAGES)
def test_the_console_pages_link_to_both(client: Any, url: str) -> None:
    curator(client)
    page = client.get(url + "?lang=en").content.decode()
    assert 'href="/console/gaps/?lang=en"' in page and 'href="/console/articles/?lang=en"' in page
    console = client.get("/console/").content.decode()
    assert 'data-lang-href="/console/gaps/"' in console and 'data-lang-href="/console/articles/"' in console
