"""Knowledge gaps (conversations.stats.gaps, .topics): which questions count, and their topics in both modes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from conversations.models import Conversation, Feedback, Message
from conversations.protocol.codes import HandoffReason
from conversations.services import handoff
from conversations.stats import gaps as gap_stats
from conversations.tests.factories import (
    bot_message_factory,
    conversation_factory,
    customer_message_factory,
    handoff_factory,
)
from knowledge.models import Article

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)

# Topics a curator would see: English and Chinese, several words each, and one question alone.
TOPICS = [
    {"How do I get a refund?", "Refund for a broken kettle", "When will my refund arrive?"},
    {"退货要多久", "退货要多久才能到账", "退货一般需要多久"},
    {"Do you offer gift wrapping?", "Gift wrapping for a birthday"},
    {"电子发票在哪里下载", "电子发票可以改抬头吗"},
    {"Can I pay with bitcoin?"},
]
KINDS = [gap_stats.DECLINED, gap_stats.THUMBS_DOWN, gap_stats.NO_KNOWLEDGE, gap_stats.LOW_CONFIDENCE]


def window() -> dict[str, Any]:
    now = timezone.now()
    return {"start": now - 7 * DAY, "end": now + timedelta(minutes=1)}


def asked(text: str, *, kind: str, articles: tuple[Article, ...] = (), evaluation: bool = False,
          ago: timedelta = timedelta(0), rating: int | None = None) -> Message:
    """A customer's question and the bot's reply that makes it a gap of `kind` (or none: "answered")."""
    conversation = conversation_factory(evaluation=evaluation)
    question = customer_message_factory(conversation, text)
    sources = [{"n": n, "article_id": a.pk, "title": a.title, "cited": False} for n, a in enumerate(articles, 1)]
    source = Message.AnswerSource.DECLINED if kind == gap_stats.DECLINED else Message.AnswerSource.LLM
    reply = bot_message_factory(conversation, "…", reply_to=question, answer_source=source, sources=sources)
    if kind == gap_stats.THUMBS_DOWN or rating is not None:
        Feedback.objects.create(conversation=conversation, message=reply, rating=rating or -1)
    if kind in (gap_stats.NO_KNOWLEDGE, gap_stats.LOW_CONFIDENCE, "customer_request"):
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.WAITING_HUMAN, handoff_reason=kind, handoff_at=timezone.now() - ago)
        handoff_factory(conversation, at=timezone.now() - ago, reason=kind, question=question)
    if ago:
        when = timezone.now() - ago
        Message.objects.filter(conversation=conversation).update(created_at=when)
        Feedback.objects.filter(conversation=conversation).update(updated_at=when)
        question.refresh_from_db()
    return question


def ask_topics() -> None:
    """Every question of TOPICS, with the kinds in turn: the first topic's asked last."""
    n = 0
    for topic in reversed(TOPICS):
        for text in sorted(topic):
            asked(text, kind=KINDS[n % len(KINDS)])
            n += 1


def topic_sets(gaps: gap_stats.Gaps) -> list[set[str]]:
    return [set(topic.examples) for topic in gaps.topics]


def test_each_kind_of_unanswered_question_counts_once_and_answered_ones_do_not() -> None:
    declined = asked("Do you sell gift cards?", kind=gap_stats.DECLINED)
    disliked = asked("运费怎么算", kind=gap_stats.THUMBS_DOWN)
    no_knowledge = asked("Where is your shop in Paris?", kind=gap_stats.NO_KNOWLEDGE)
    low = asked("保修期多长", kind=gap_stats.LOW_CONFIDENCE)
    # A reply both disliked and handed off for low confidence: one question, two reasons.
    both = asked("Can I change my address?", kind=gap_stats.LOW_CONFIDENCE, rating=-1)
    asked("What are your opening hours?", kind="answered")
    asked("How long does shipping take?", kind="answered", rating=1)
    asked("I want a person", kind="customer_request")
    asked("Evaluation question", kind=gap_stats.DECLINED, evaluation=True)
    asked("Asked last month", kind=gap_stats.DECLINED, ago=20 * DAY)

    questions, capped = gap_stats.gap_questions(**window())

    found = {question.message_id: question.reasons for question in questions}
    assert found == {
        declined.pk: {gap_stats.DECLINED}, disliked.pk: {gap_stats.THUMBS_DOWN},
        no_knowledge.pk: {gap_stats.NO_KNOWLEDGE}, low.pk: {gap_stats.LOW_CONFIDENCE},
        both.pk: {gap_stats.LOW_CONFIDENCE, gap_stats.THUMBS_DOWN},
    }
    assert not capped


def test_a_handoff_counts_the_question_its_last_reply_answered() -> None:
    conversation = conversation_factory()
    first = customer_message_factory(conversation, "Hello")
    bot_message_factory(conversation, "Hi!", reply_to=first, answer_source=Message.AnswerSource.LLM)
    second = customer_message_factory(conversation, "Do you ship to Iceland?")
    bot_message_factory(conversation, "…", reply_to=second, answer_source=Message.AnswerSource.LLM)
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.WAITING_HUMAN, handoff_reason=gap_stats.NO_KNOWLEDGE, handoff_at=timezone.now())
    handoff_factory(conversation, reason=gap_stats.NO_KNOWLEDGE)  # its question not known (an older row)

    questions, _capped = gap_stats.gap_questions(**window())

    assert [question.text for question in questions] == ["Do you ship to Iceland?"]


def test_questions_group_into_topics_by_keywords_without_embeddings(settings: Any) -> None:
    ask_topics()

    gaps = gap_stats.knowledge_gaps(**window(), use_embeddings=False)

    assert gaps.mode == gap_stats.KEYWORDS
    assert topic_sets(gaps) == TOPICS  # the largest first, then the latest
    assert [topic.count for topic in gaps.topics] == [3, 3, 2, 2, 1]
    assert "退货" in gaps.topics[1].label and gaps.topics[0].label[0] == "refund"
    assert gaps.topics[1].language == "zh-hans" and gaps.topics[0].language == "en"


def test_questions_group_into_topics_by_embeddings_when_the_model_answers(fake_ollama: Any, settings: Any) -> None:
    settings.GAPS_EMBED_SIMILARITY = 0.25  # the fake's hashed word vectors are sparser than a real model's
    ask_topics()

    gaps = gap_stats.knowledge_gaps(**window())

    assert gaps.mode == gap_stats.EMBEDDINGS
    assert len(fake_ollama.embed_requests()) == 1
    assert topic_sets(gaps) == TOPICS


def test_grouping_is_the_same_every_time(fake_ollama: Any, settings: Any) -> None:
    settings.GAPS_EMBED_SIMILARITY = 0.25
    ask_topics()

    first, second = gap_stats.knowledge_gaps(**window()), gap_stats.knowledge_gaps(**window())

    assert [(t.title, t.examples, t.label) for t in first.topics] == [(t.title, t.examples, t.label)
                                                                      for t in second.topics]


def test_without_the_embedding_model_topics_come_from_keywords(fake_ollama: Any) -> None:
    fake_ollama.state.models = ["deepseek-r1:7b"]
    ask_topics()

    gaps = gap_stats.knowledge_gaps(**window())

    assert gaps.mode == gap_stats.KEYWORDS
    assert topic_sets(gaps) == TOPICS


def test_a_topic_has_its_reasons_examples_and_the_articles_tried() -> None:
    returns = Article.objects.create(title="Returns", body="Thirty days.")
    shipping = Article.objects.create(title="Shipping", body="Three days.")
    asked("How do I get a refund?", kind=gap_stats.THUMBS_DOWN, articles=(returns, shipping))
    asked("how do I get a refund", kind=gap_stats.LOW_CONFIDENCE, articles=(returns,))
    asked("When will my refund arrive?", kind=gap_stats.DECLINED)

    [topic] = gap_stats.knowledge_gaps(**window(), use_embeddings=False).topics

    assert topic.count == 3
    assert topic.reasons == {gap_stats.LOW_CONFIDENCE: 1, gap_stats.DECLINED: 1, gap_stats.THUMBS_DOWN: 1}
    # The same question asked twice is one example; the latest first.
    assert topic.examples == ["When will my refund arrive?", "how do I get a refund"]
    assert [(a.title, a.count) for a in topic.articles] == [("Returns", 2), ("Shipping", 1)]


def test_only_the_latest_questions_are_grouped(settings: Any) -> None:
    settings.GAPS_MAX_QUESTIONS = 3
    for days, text in enumerate(["退货要多久", "Do you offer gift wrapping?", "Can I pay with bitcoin?",
                                 "How do I get a refund?", "电子发票在哪里下载"]):
        asked(text, kind=gap_stats.DECLINED, ago=days * DAY + timedelta(minutes=1))

    gaps = gap_stats.knowledge_gaps(**window(), use_embeddings=False)

    assert gaps.capped and gaps.questions == 3
    assert {example for topic in gaps.topics for example in topic.examples} == {
        "退货要多久", "Do you offer gift wrapping?", "Can I pay with bitcoin?"}


def test_a_topic_is_titled_by_its_most_typical_question_not_its_first_or_latest() -> None:
    for minutes, text in ((3, "Refund for a broken kettle"), (2, "Refund?"), (1, "When will my refund arrive?")):
        asked(text, kind=gap_stats.DECLINED, ago=timedelta(minutes=minutes))

    [topic] = gap_stats.knowledge_gaps(**window(), use_embeddings=False).topics

    assert topic.title == "Refund?"  # it shares its one word with every other question of the topic


def test_a_topic_draft_prefills_an_article_in_the_topics_language() -> None:
    asked("电子发票在哪里下载", kind=gap_stats.DECLINED)
    asked("电子发票可以改抬头吗", kind=gap_stats.THUMBS_DOWN)

    [topic] = gap_stats.knowledge_gaps(**window(), use_embeddings=False).topics
    draft = gap_stats.topic_draft(topic)

    assert draft["language"] == "zh-hans" and draft["title"] in topic.examples
    assert draft["body"].startswith("客户问了以下问题")  # the instruction in the topic's language
    assert "- 电子发票在哪里下载\n" in draft["body"] and "- 电子发票可以改抬头吗\n" in draft["body"]
    assert "电子" in draft["tags"] and "发票" in draft["tags"]


@pytest.mark.parametrize(("first", "second"), [
    ("Do you ship to Iceland?", "发票可以改抬头吗"),
    ("保修期多长", "Can I pay with bitcoin?"),
])
def test_a_conversation_handed_off_twice_counts_each_handoffs_question(first: str, second: str) -> None:
    agent = get_user_model().objects.create_user("mei")
    conversation = conversation_factory()
    one = customer_message_factory(conversation, first)
    bot_message_factory(conversation, "…", reply_to=one, answer_source=Message.AnswerSource.LLM)
    handoff.conversation_request_human(conversation=conversation, reason=HandoffReason.LOW_CONFIDENCE)
    handoff.conversation_agent_join(conversation_id=conversation.pk, agent=agent)
    handoff.conversation_bot_resume(conversation_id=conversation.pk, agent=agent)  # the bot takes it back
    two = customer_message_factory(conversation, second)
    bot_message_factory(conversation, "…", reply_to=two, answer_source=Message.AnswerSource.LLM)
    handoff.conversation_request_human(conversation=Conversation.objects.get(pk=conversation.pk),
                                       reason=HandoffReason.NO_KNOWLEDGE)

    questions, _capped = gap_stats.gap_questions(**window())

    assert {question.text: question.reasons for question in questions} == {
        first: {gap_stats.LOW_CONFIDENCE}, second: {gap_stats.NO_KNOWLEDGE}}


def test_a_handoff_counts_its_own_question_not_a_later_message() -> None:
    conversation = conversation_factory()
    asked_first = customer_message_factory(conversation, "退货运费谁出")
    bot_message_factory(conversation, "…", reply_to=asked_first, answer_source=Message.AnswerSource.LLM)
    customer_message_factory(conversation, "hello?")  # written after the reply, before the handoff was recorded
    handoff_factory(conversation, reason=gap_stats.NO_KNOWLEDGE, question=asked_first)

    questions, _capped = gap_stats.gap_questions(**window())

    assert [question.text for question in questions] == ["退货运费谁出"]


def test_a_second_load_embeds_only_the_questions_not_seen_before(fake_ollama: Any, settings: Any) -> None:
    settings.GAPS_EMBED_SIMILARITY = 0.25
    ask_topics()
    first = gap_stats.knowledge_gaps(**window())
    assert len(fake_ollama.embed_requests()) == 1

    again = gap_stats.knowledge_gaps(**window())

    assert len(fake_ollama.embed_requests()) == 1  # every vector came from the cache
    assert again.mode == gap_stats.EMBEDDINGS and topic_sets(again) == topic_sets(first) == TOPICS
    asked("Can I pay with bitcoin or ether?", kind=gap_stats.DECLINED)
    asked("电子发票在哪里下载", kind=gap_stats.DECLINED)  # the same words as a question seen: its vector is kept

    third = gap_stats.knowledge_gaps(**window())

    assert [request.body["input"] for request in fake_ollama.embed_requests()[1:]] == [
        ["Can I pay with bitcoin or ether?"]]
    assert third.mode == gap_stats.EMBEDDINGS and third.questions == first.questions + 2


def test_kept_vectors_are_per_embedding_model(fake_ollama: Any, settings: Any) -> None:
    asked("Do you offer gift wrapping?", kind=gap_stats.DECLINED)
    gap_stats.knowledge_gaps(**window())
    settings.OLLAMA_EMBED_MODEL = "deepseek-r1:7b"  # another model the fake node has: its vectors differ in kind

    gap_stats.knowledge_gaps(**window())

    assert [request.body["model"] for request in fake_ollama.embed_requests()] == ["bge-m3", "deepseek-r1:7b"]
    assert gap_stats.gap_vector_key("Do you offer gift wrapping?") != gap_stats.gap_vector_key(
        "Do you offer gift wrapping?", model="bge-m3")


def test_a_customers_erasure_drops_the_vectors_of_their_questions(fake_ollama: Any) -> None:
    asked("Do you offer gift wrapping?", kind=gap_stats.DECLINED)
    asked("退货要多久", kind=gap_stats.DECLINED)
    gap_stats.knowledge_gaps(**window())

    assert gap_stats.gap_vectors_erase(["退货要多久"]) == 1

    assert cache.get(gap_stats.gap_vector_key("退货要多久")) is None
    assert cache.get(gap_stats.gap_vector_key("Do you offer gift wrapping?")) is not None


@pytest.mark.parametrize("text", ["Do you have a loyalty club?", "会员积分怎么兑换"])
def test_a_declined_reply_that_handed_off_counts_once_as_the_handoff(text: str) -> None:
    """With NO_SOURCE_ACTION=handoff the decline is how the handoff was told: the topic says "no knowledge: 1",
    not also "declined: 1" for the same question."""
    conversation = conversation_factory()
    question = customer_message_factory(conversation, text)
    bot_message_factory(conversation, "…", reply_to=question, answer_source=Message.AnswerSource.DECLINED)
    handoff.conversation_request_human(conversation=conversation, reason=HandoffReason.NO_KNOWLEDGE)
    declined_only = customer_message_factory(conversation_factory(), text + " ?")
    bot_message_factory(declined_only.conversation, "…", reply_to=declined_only,
                        answer_source=Message.AnswerSource.DECLINED)

    questions, _capped = gap_stats.gap_questions(**window())

    assert {question.text: question.reasons for question in questions} == {
        text: {gap_stats.NO_KNOWLEDGE}, text + " ?": {gap_stats.DECLINED}}
