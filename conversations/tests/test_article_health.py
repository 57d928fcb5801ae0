"""Article health (conversations.stats.articles): figures per article, and the rules for bad and unused ones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from conversations.models import Conversation, Feedback, Message
from conversations.stats import articles as article_stats
from conversations.tests.factories import (
    bot_message_factory,
    conversation_factory,
    customer_message_factory,
    handoff_factory,
)
from knowledge.models import Article

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def article(title: str, *, published_days_ago: int | None = 200) -> Article:
    status = Article.Status.DRAFT if published_days_ago is None else Article.Status.PUBLISHED
    published_at = None if published_days_ago is None else timezone.now() - published_days_ago * DAY
    return Article.objects.create(title=title, body="…", status=status, published_at=published_at)


def answer(*articles: Article, rating: int | None = None, handoff: bool = False, ago: timedelta = timedelta(0),
           cited: bool = True, evaluation: bool = False) -> Message:
    """A question and the bot's answer with these articles among its sources (cited or only given)."""
    conversation = conversation_factory(evaluation=evaluation)
    question = customer_message_factory(conversation, "A question")
    sources = [{"n": n, "article_id": a.pk, "title": a.title, "cited": cited} for n, a in enumerate(articles, 1)]
    reply = bot_message_factory(conversation, "An answer [1].", reply_to=question, sources=sources,
                                answer_source=Message.AnswerSource.LLM, status=Message.Status.COMPLETE)
    if ago:
        Message.objects.filter(conversation=conversation).update(created_at=timezone.now() - ago)
    if rating is not None:
        Feedback.objects.create(conversation=conversation, message=reply, rating=rating)
    if handoff:
        handed_at = timezone.now() - ago + timedelta(seconds=1)
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.WAITING_HUMAN, handoff_reason="customer_request", handoff_at=handed_at)
        handoff_factory(conversation, at=handed_at, question=question)
    return reply


def report(days: int = 30) -> article_stats.HealthReport:
    now = timezone.now()
    return article_stats.articles_health(start=now - days * DAY, end=now + timedelta(minutes=1))


def figures(health: article_stats.HealthReport, title: str) -> tuple[int, int, int, int]:
    [row] = [a for a in health.articles if a.title == title]
    return row.cited, row.thumbs_up, row.thumbs_down, row.handoffs


def test_each_article_counts_its_citing_answers_thumbs_and_handoffs() -> None:
    returns, shipping, payment = article("Returns"), article("Shipping"), article("支付方式")
    answer(returns, shipping, rating=1)
    answer(returns, rating=-1)
    answer(returns, handoff=True)
    answer(payment, rating=-1, handoff=True)
    answer(shipping, cited=False, rating=-1)  # given, not used: not a citation
    answer(shipping, evaluation=True)
    answer(shipping, ago=40 * DAY)  # before the period

    health = report()

    assert figures(health, "Returns") == (3, 1, 1, 1)
    assert figures(health, "Shipping") == (1, 1, 0, 0)
    assert figures(health, "支付方式") == (1, 0, 1, 1)
    assert [a.bad for a in health.articles if a.title == "支付方式"] == [1]  # one bad answer, not two


def test_a_handoff_counts_only_on_the_answer_just_before_it() -> None:
    returns, shipping = article("Returns"), article("Shipping")
    conversation = conversation_factory()
    for source in (returns, shipping):
        question = customer_message_factory(conversation, "A question")
        bot_message_factory(conversation, "An answer.", reply_to=question, answer_source=Message.AnswerSource.LLM,
                            sources=[{"n": 1, "article_id": source.pk, "title": source.title, "cited": True}])
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.WAITING_HUMAN, handoff_reason="low_confidence", handoff_at=timezone.now())
    handoff_factory(conversation, reason="low_confidence")

    health = report()

    assert figures(health, "Returns")[3] == 0 and figures(health, "Shipping")[3] == 1


@pytest.mark.parametrize(("first", "second"), [("Returns", "Shipping"), ("退货与退款", "配送与物流")])
def test_a_conversation_handed_off_twice_counts_a_handoff_on_each_answer_before_one(first: str, second: str) -> None:
    """Handed off after the first answer, handed back to the bot, handed off again after the second: both answers
    were followed by a handoff (the conversation's own fields keep only the latest)."""
    articles = article(first), article(second)
    conversation = conversation_factory()
    started = timezone.now() - timedelta(hours=1)
    for step, source in enumerate(articles):
        question = customer_message_factory(conversation, "A question")
        reply = bot_message_factory(conversation, "An answer.", reply_to=question,
                                    answer_source=Message.AnswerSource.LLM,
                                    sources=[{"n": 1, "article_id": source.pk, "title": source.title, "cited": True}])
        answered_at = started + step * timedelta(minutes=20)
        Message.objects.filter(pk__in=[question.pk, reply.pk]).update(created_at=answered_at)
        handoff_factory(conversation, at=answered_at + timedelta(minutes=1), question=question,
                        reason="low_confidence")
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.WAITING_HUMAN, handoff_reason="low_confidence",
        handoff_at=started + timedelta(minutes=21))

    health = report()

    assert figures(health, first)[3] == 1 and figures(health, second)[3] == 1


@pytest.mark.parametrize(("cited", "bad", "flagged"), [
    (5, 2, True),  # 40 % of enough answers
    (10, 3, True),  # 30 %: at the rate
    (10, 2, False),  # 20 %
    (4, 4, False),  # all bad, but too few answers to tell
])
def test_an_article_causes_bad_answers_with_enough_citations_and_a_high_bad_rate(
    settings: Any, cited: int, bad: int, flagged: bool
) -> None:
    settings.ARTICLE_BAD_MIN_CITED, settings.ARTICLE_BAD_RATE = 5, 0.3
    faq = article("退货政策")
    for n in range(cited):
        answer(faq, rating=-1 if n < bad and n % 2 else None, handoff=n < bad and not n % 2)

    health = report()

    assert [a.title for a in health.bad] == (["退货政策"] if flagged else [])


def test_published_articles_no_answer_cited_lately_are_unused(settings: Any) -> None:
    settings.ARTICLE_UNCITED_DAYS = 90
    article("Never cited")
    article("Cited long ago")
    article("Cited lately")
    article("Just published", published_days_ago=10)
    article("A draft", published_days_ago=None)
    answer(*Article.objects.filter(title="Cited long ago"), ago=120 * DAY)
    answer(*Article.objects.filter(title="Cited lately"), ago=60 * DAY)

    health = report(days=7)  # the period shown does not change what is unused

    assert [a.title for a in health.unused] == ["Cited long ago", "Never cited"]
    assert [a.title for a in report(days=365).unused] == ["Cited long ago", "Never cited"]


def test_only_the_latest_answers_are_read(settings: Any) -> None:
    settings.ARTICLE_HEALTH_MAX_REPLIES = 2
    returns = article("Returns")
    for days in (3, 2, 1):
        answer(returns, ago=days * DAY)

    health = report()

    assert health.capped and health.replies == 2 and figures(health, "Returns")[0] == 2
