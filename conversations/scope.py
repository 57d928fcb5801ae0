"""Whether the knowledge base has anything to say about a question, and what the bot says when it has not.

Retrieval always finds the chunks that share most with a question, relevant
or not: "What's the weather in Hangzhou?" finds the shipping article, which
mentions the studio in Hangzhou. Given such a source, a model answers (from
it, or from its own general knowledge), and the product would rely on the
model to say it cannot (issue 15). So the product tells first: a source is
given to the model only when it bears on the question by two measures, its
relevance (`knowledge.retrieval.relevance`: BM25 and vector similarity) and its
coverage (knowledge.retrieval.coverage: the share of the question's content
words it contains). One shared word is not coverage.

With no relevant source the message is small talk (conversations.smalltalk:
the model answers it, as before) or something the shop's knowledge base does
not cover: declined with a fixed reply offering a person, or handed to one
(NO_SOURCE_ACTION), never answered from the model's general knowledge.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_noop

from knowledge.retrieval.coverage import amount_stated, price_asked
from knowledge.retrieval.relevance import bears_on_question, hit_by_meaning, hit_relevance
from knowledge.retrieval.search import Hit
from knowledge.retrieval.snapshot import article_texts

from . import guard
from .notices import notice_in

# How many search hits are weighed for each source the prompt takes: the relevant ones may rank lower.
CANDIDATES_PER_SOURCE = 3

DECLINE = "decline"
HANDOFF = "handoff"

# The fixed reply to a question the knowledge base does not cover; "Talk to a human" is the widget's button.
DECLINE_TEXT = gettext_noop(
    "I can't help with that here — I can only answer questions about %(subject)s. Would you like to talk to a "
    "person? Use the “Talk to a human” button above and a colleague will join."
)
DECLINE_GENERIC_SUBJECT = gettext_noop("what our help articles cover: orders, delivery, returns, payment and the like")
# The customer's reply when such a question is handed to a person instead.
HANDOFF_TEXT = gettext_noop(
    "I can't answer that from what I know here, so I'm passing you to a colleague, who will join shortly."
)


def source_relevant(hit: Hit) -> bool:
    """Whether one retrieved source bears on the question (knowledge.retrieval.relevance, the rule the admin's
    test-retrieval page shows too; settings RELEVANCE_MIN, COVERAGE_MIN, RELEVANCE_STRONG)."""
    return bears_on_question(hit)


def source_coverage(hit: Hit) -> float | None:
    """How much of the question a given source covers, for the confidence: its coverage, or its similarity
    in meaning where that alone let it through (a paraphrase or another language shares no words)."""
    by_meaning = hit_by_meaning(hit)
    if by_meaning >= settings.RELEVANCE_STRONG:
        return max(hit.coverage or 0.0, round(by_meaning, 3))
    return hit.coverage


def sources_relevant(
    hits: list[Hit], *, limit: int, language: str = "", question: str = "", previous_question: str = "",
) -> tuple[list[Hit], list[Hit]]:
    """(the best `limit` sources that bear on the question, those covering more of it first; those set aside).

    Sources in the question's language go first (a Chinese customer is answered from the Chinese article when
    both bear on the question), then those whose topic names what the question asks about (its head words:
    "send a gaiwan to Hong Kong" is for the shipping article, though the warranty one names gaiwans and sending
    too), then, for a follow-up, those of the article the conversation's last answer came from ("那茶具呢" after
    the return period: the returns article's line on teaware, not the warranty's), then covering more of the
    question (the search's order among equals): of two
    sources sharing a word with "满多少钱免运费", the one that also has the others is the answer. A message that
    imitates the prompt's own tags or tells the bot to drop its instructions (guard.is_injection) is an injection,
    not a question: no source. With PRICE_MUST_BE_STATED, nor is a price asked answered by sources that do not
    state it (`_stating_the_amount`; `previous_question`, a follow-up's, says what "how much is it?" prices).
    """
    if question and guard.is_injection(question):
        return [], hits
    relevant = [hit for hit in hits if source_relevant(hit)]
    relevant.sort(key=lambda hit: (not _same_language(hit.language, language), not hit.heads_in_topic,
                                   not hit.continues_subject, -(hit.coverage or 0.0)))
    kept = relevant[:limit]
    if kept and question:
        kept = _stating_the_amount(question, kept, relevant, asked_before=previous_question)
        if not kept:
            return [], hits
    return kept, [hit for hit in hits if hit not in kept and hit not in relevant]


def _stating_the_amount(question: str, kept: list[Hit], relevant: list[Hit], *, asked_before: str = "") -> list[Hit]:
    """The sources to give a question that asks what something costs: those kept when they state it, the best
    article's section that does on its own first ("what about the quicker option, how much is that?" is the fees
    section's, not the delivery areas'); else the section of their articles that does (a relevant one not kept:
    "how much is express to Chengdu?" keeps the delivery areas and times, the fees come fifth) first, in place of
    the last; none when neither does. "How much is the gaiwan?" is not answered from the warranty article that
    names gaiwans, nor a change-of-mind return's postage from the line saying the customer pays it. A follow-up
    going on about the last answer's article ("and how much is the quick one?" after next-day delivery) prices what
    that whole article says, read with the question before it. A question asking no amount keeps its sources, and
    so does every question unless PRICE_MUST_BE_STATED."""
    if not settings.PRICE_MUST_BE_STATED or not price_asked(question):
        return kept
    continued = {hit.article_id for hit in kept if hit.continues_subject}
    texts = article_texts(continued) if continued else [hit.text for hit in kept]
    if amount_stated(question, texts, asked_before=asked_before):  # the section that says it first
        stating = next((hit for hit in kept if hit.article_id == kept[0].article_id
                        and amount_stated(question, [hit.text], asked_before=asked_before)), None)
        return [stating, *(hit for hit in kept if hit is not stating)] if stating else kept
    articles = {hit.article_id for hit in kept}
    for hit in relevant[len(kept):]:
        if hit.article_id in articles and amount_stated(question, [*texts, hit.text], asked_before=asked_before):
            return [hit, *kept[:-1]]
    return []


def _same_language(article: str, question: str) -> bool:
    return not question or not article or article.split("-")[0] == question.split("-")[0]


def no_source_action() -> str:
    """DECLINE or HANDOFF (anything else in the setting reads as DECLINE, the safe one)."""
    return HANDOFF if settings.NO_SOURCE_ACTION.strip().lower() == HANDOFF else DECLINE


def decline_text(language: str) -> str:
    """The fixed reply to an uncovered question, in the customer's language, naming what the shop covers."""
    subject = settings.SHOP_SUBJECT_ZH if language.startswith("zh") else settings.SHOP_SUBJECT_EN
    subject = subject.strip() or notice_in(language, DECLINE_GENERIC_SUBJECT)
    return notice_in(language, DECLINE_TEXT, subject=subject)


def handoff_text(language: str) -> str:
    return notice_in(language, HANDOFF_TEXT)


def set_aside_record(hits: list[Hit]) -> dict[str, Any]:
    """The retrieval record's part about the sources found but not given: why each was not (for the agents)."""
    if not hits:
        return {}
    return {"set_aside": [
        {"title": hit.title, "heading": hit.heading, "coverage": hit.coverage,
         "relevance": round(hit_relevance(hit), 3)}
        for hit in hits
    ]}
