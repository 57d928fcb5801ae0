"""Knowledge gaps: the questions the bot could not answer well, grouped into topics for a curator.

A question is a gap when, in the period, the bot's reply to it
- was followed by a handoff for `no_knowledge` or `low_confidence` (each Handoff row: a conversation handed off
  twice, say once for low confidence and, after an agent handed it back, later for want of knowledge, counts both
  questions; the question is the handoff's own, else the one the last bot reply before it answered),
- declined it (answer_source `declined`: no source bears on it, conversations.scope), or
- got a thumbs down (Feedback -1).
Evaluation conversations never count. At most GAPS_MAX_QUESTIONS, the latest, are grouped (conversations.stats
.topics), by their embeddings when the embedding model answers within GAPS_EMBED_TIMEOUT_S, else by their words.
Each question's vector is kept in the shared cache (Redis; local memory embedded) under the embedding model's name
and a digest of its text, so a page loaded again embeds only the questions it has not seen.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from helpdesk.llm import ollama as gateway
from helpdesk.llm.text import language_of
from helpdesk.runtime.cachekeys import cache_keys_forget
from knowledge.embedding import embed_texts
from knowledge.ingest.chunking import TimeBudgetExceeded
from knowledge.retrieval.terms import normalise_question

from ..models import Feedback, Handoff, Message
from ..protocol.codes import HandoffReason
from .handoff_replies import last_replies_before
from .topics import topic_label, vectors_group, words_matrix

logger = logging.getLogger(__name__)

NO_KNOWLEDGE = HandoffReason.NO_KNOWLEDGE.value
LOW_CONFIDENCE = HandoffReason.LOW_CONFIDENCE.value
DECLINED = "declined"
THUMBS_DOWN = "thumbs_down"
REASONS = (NO_KNOWLEDGE, LOW_CONFIDENCE, DECLINED, THUMBS_DOWN)
EXAMPLES = 5
EMBEDDINGS, KEYWORDS = "embeddings", "keywords"
# The questions' vectors in the shared cache (see the module's docstring), kept a month: a page's periods reach back
# 90 days, and a question not seen again for a month is embedded again when it is.
VECTOR_KEY = "gaps-vector"
VECTOR_TTL_S = 30 * 24 * 3600


@dataclass
class GapQuestion:
    """One unanswered question: the customer's message, why it counts, and the articles its reply was given."""

    message_id: int
    conversation_id: int
    text: str
    asked_at: datetime
    reasons: set[str] = field(default_factory=set)
    articles: dict[int, str] = field(default_factory=dict)  # article id -> title


@dataclass(frozen=True)
class TriedArticle:
    article_id: int
    title: str
    count: int  # how many of the topic's questions' replies were given it


@dataclass(frozen=True)
class Topic:
    label: list[str]  # its most frequent words
    title: str  # its most typical question: the draft article's title
    count: int
    reasons: dict[str, int]
    examples: list[str]  # distinct questions, latest first
    articles: list[TriedArticle]
    language: str  # "en" or "zh-hans", most of its questions'
    latest: datetime


@dataclass(frozen=True)
class Gaps:
    topics: list[Topic]
    questions: int  # grouped
    capped: bool  # more questions than GAPS_MAX_QUESTIONS in the period: only the latest were grouped
    mode: str  # EMBEDDINGS or KEYWORDS
    seconds: float  # what grouping took (embedding included)


def _source_articles(sources: list | None) -> dict[int, str]:
    """The knowledge-base articles among a reply's sources (FAQ entries and action results have no article id)."""
    found = {}
    for source in sources or []:
        article_id = source.get("article_id") if isinstance(source, dict) else None
        if isinstance(article_id, int):
            found.setdefault(article_id, str(source.get("title") or ""))
    return found


def _handed_off(*, start: datetime, end: datetime, limit: int) -> list[tuple[int | None, int, str, datetime]]:
    """(question id, conversation id, reason, time) of the period's handoffs for want of knowledge, latest first:
    every handoff, however many a conversation had."""
    rows = (Handoff.objects.filter(conversation__evaluation=False, at__gte=start, at__lt=end,
                                   reason__in=(NO_KNOWLEDGE, LOW_CONFIDENCE))
            .order_by("-at", "-pk").values_list("question_id", "conversation_id", "reason", "at")[:limit])
    return list(rows)


Entry = tuple[Message | None, Message | None, str]  # (the question if known, the bot reply, the reason)


def _handoff_entries(base: QuerySet[Message], *, start: datetime, end: datetime, limit: int) -> list[Entry]:
    """The period's handoffs for want of knowledge as (question, its bot reply, reason); a handoff whose question
    is not known (or gone) takes the last bot reply before it, and that reply's question."""
    handoffs = _handed_off(start=start, end=end, limit=limit)
    questions = Message.objects.in_bulk([question_id for question_id, *_rest in handoffs if question_id])
    replies = {reply.reply_to_id: reply for reply in base.filter(reply_to_id__in=list(questions))}
    found: list[Entry] = []
    unknown: list[tuple[int, str, datetime]] = []
    for question_id, conversation_id, reason, at in handoffs:
        question = questions.get(question_id) if question_id else None
        if question is None:
            unknown.append((conversation_id, reason, at))
        else:
            found.append((question, replies.get(question.pk), reason))
    if unknown:
        last = last_replies_before(((conversation_id, at) for conversation_id, _reason, at in unknown), base)
        chosen = {last[(conversation_id, at)]: reason for conversation_id, reason, at in unknown
                  if (conversation_id, at) in last}
        found += [(None, reply, chosen[reply.pk]) for reply in base.filter(pk__in=list(chosen))]
    return found


def _entries(*, start: datetime, end: datetime, limit: int) -> list[Entry]:
    """The questions that are gaps, each with the bot reply that makes it one (if any) and its reason."""
    found: list[Entry] = []
    base = Message.objects.filter(role=Message.Role.BOT, conversation__evaluation=False).select_related("reply_to")
    declined = base.filter(answer_source=Message.AnswerSource.DECLINED, created_at__gte=start, created_at__lt=end)
    found += [(None, reply, DECLINED) for reply in declined.order_by("-created_at", "-pk")[:limit]]
    disliked = (Feedback.objects.filter(rating=-1, conversation__evaluation=False, updated_at__gte=start,
                                        updated_at__lt=end)
                .order_by("-updated_at", "-pk").values_list("message_id", flat=True)[:limit])
    found += [(None, reply, THUMBS_DOWN) for reply in base.filter(pk__in=list(disliked))]
    found += _handoff_entries(base, start=start, end=end, limit=limit)
    return found


def _question_of(reply: Message) -> Message | None:
    if reply.reply_to_id is not None and reply.reply_to is not None:
        return reply.reply_to
    return (Message.objects.filter(conversation_id=reply.conversation_id, role=Message.Role.CUSTOMER,
                                   pk__lt=reply.pk).order_by("-pk").first())


def gap_questions(*, start: datetime, end: datetime, limit: int | None = None) -> tuple[list[GapQuestion], bool]:
    """The period's gap questions, one per customer message, latest first, at most `limit` (GAPS_MAX_QUESTIONS);
    and whether there were more."""
    limit = limit or settings.GAPS_MAX_QUESTIONS
    questions: dict[int, GapQuestion] = {}
    for known, reply, reason in _entries(start=start, end=end, limit=limit + 1):
        question = known or (_question_of(reply) if reply is not None else None)
        if question is None or not question.content.strip():
            continue
        gap = questions.get(question.pk)
        if gap is None:
            gap = questions[question.pk] = GapQuestion(
                message_id=question.pk, conversation_id=question.conversation_id, text=question.content.strip(),
                asked_at=question.created_at,
            )
        gap.reasons.add(reason)
        gap.articles.update(_source_articles(reply.sources if reply is not None else None))
    for gap in questions.values():
        if gap.reasons & {NO_KNOWLEDGE, LOW_CONFIDENCE}:
            # The decline was how that handoff was told to the customer (NO_SOURCE_ACTION=handoff): one reason.
            gap.reasons.discard(DECLINED)
    ordered = sorted(questions.values(), key=lambda q: (q.asked_at, q.message_id), reverse=True)
    return ordered[:limit], len(ordered) > limit


def gap_vector_key(text: str, *, model: str | None = None) -> str:
    """The shared cache's key of a question's vector: its text's digest, then the embedding model's name (a
    customer's erasure deletes a digest's keys under every model)."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"{VECTOR_KEY}:{digest}:{model or settings.OLLAMA_EMBED_MODEL}"


def _vectors_embedded(texts: list[str], *, deadline: float) -> np.ndarray:
    """The questions' unit vectors: those in the shared cache as they are, the others embedded (in one go) and
    kept there for VECTOR_TTL_S. A cache that is away (Redis down) only means embedding them all."""
    keys = [gap_vector_key(text) for text in texts]
    kept = cache.get_many(list(dict.fromkeys(keys)))
    missing = list(dict.fromkeys(text for text, key in zip(texts, keys, strict=True) if key not in kept))
    if missing:
        embedded = embed_texts(missing, deadline=deadline)
        fresh = {gap_vector_key(text): row.astype(np.float32).tobytes()
                 for text, row in zip(missing, embedded, strict=True)}
        cache.set_many(fresh, timeout=VECTOR_TTL_S)
        kept.update(fresh)
    rows = [np.frombuffer(kept[key], dtype=np.float32) for key in keys]
    if len({row.shape for row in rows}) > 1:  # kept under the same model name but of another size: start over
        cache.delete_many(keys)
        return embed_texts(texts, deadline=deadline)
    return np.vstack(rows)


def _vectors(texts: list[str], *, use_embeddings: bool) -> tuple[object, str]:
    """The questions' vectors by meaning, or by words when the embedding model fails or takes too long."""
    if use_embeddings and texts:
        try:
            deadline = time.monotonic() + settings.GAPS_EMBED_TIMEOUT_S
            return _vectors_embedded(texts, deadline=deadline), EMBEDDINGS
        except (gateway.OllamaError, ValueError, TimeBudgetExceeded) as exc:
            logger.info("knowledge gaps grouped by keywords: the embedding model failed: %s", exc)
    return words_matrix(texts), KEYWORDS


def gap_vectors_forget_all() -> int:
    """Delete every kept question vector (the test suite's clean start: a test that finds no embedding model must
    not group by an earlier test's vectors). Returns how many went."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if hasattr(backend, "delete_pattern"):  # django-redis
        return backend.delete_pattern(f"{VECTOR_KEY}:*") or 0
    if isinstance(backend, LocMemCache):  # one process's own dictionary: its keys are "prefix:version:key"
        with backend._lock:
            found = [key for key in backend._cache if key.split(":", 2)[-1].startswith(f"{VECTOR_KEY}:")]
            for key in found:
                backend._delete(key)
        return len(found)
    backend.clear()
    return 0


def gap_vectors_erase(texts: list[str]) -> int:
    """Delete the kept vectors of these questions (a customer's erasure), under every embedding model where the
    cache can be searched (Redis), else under the current one. Returns how many went."""
    digests = {gap_vector_key(text).split(":")[1] for text in texts if text.strip()}
    backend = caches[DEFAULT_CACHE_ALIAS]
    if hasattr(backend, "delete_pattern"):  # django-redis
        return sum(backend.delete_pattern(f"{VECTOR_KEY}:{digest}:*") or 0 for digest in digests)
    return cache_keys_forget(gap_vector_key(text) for text in texts if text.strip())


def _topic(group: list[GapQuestion], typical: GapQuestion) -> Topic:
    reasons = Counter(reason for question in group for reason in question.reasons)
    tried: Counter[int] = Counter()
    titles: dict[int, str] = {}
    for question in group:
        tried.update(question.articles.keys())
        titles.update(question.articles)
    examples, seen = [], set()
    for question in sorted(group, key=lambda q: (q.asked_at, q.message_id), reverse=True):
        key = normalise_question(question.text)
        if key not in seen:
            seen.add(key)
            examples.append(question.text)
    languages = Counter(language_of(question.text) for question in group)
    return Topic(
        label=topic_label([question.text for question in group]),
        title=typical.text,
        count=len(group),
        reasons={reason: reasons[reason] for reason in REASONS if reasons[reason]},
        examples=examples[:EXAMPLES],
        articles=[TriedArticle(article_id, titles[article_id], n)
                  for article_id, n in sorted(tried.items(), key=lambda item: (-item[1], titles[item[0]]))],
        language=max(sorted(languages), key=lambda code: languages[code]),
        latest=max(question.asked_at for question in group),
    )


def knowledge_gaps(*, start: datetime, end: datetime, use_embeddings: bool = True) -> Gaps:
    """The period's gap questions in topics, the largest first (then the most recent)."""
    began = time.monotonic()
    questions, capped = gap_questions(start=start, end=end)
    ordered = sorted(questions, key=lambda q: (q.asked_at, q.message_id))  # oldest first: a stable order
    texts = [question.text for question in ordered]
    vectors, mode = _vectors(texts, use_embeddings=use_embeddings)
    threshold = settings.GAPS_EMBED_SIMILARITY if mode == EMBEDDINGS else settings.GAPS_KEYWORD_SIMILARITY
    grouping = vectors_group(vectors, threshold=threshold) if texts else None
    topics = [] if grouping is None else [
        _topic([ordered[i] for i in indexes], ordered[typical])
        for indexes, typical in zip(grouping.members, grouping.typical, strict=True)
    ]
    topics.sort(key=lambda topic: (-topic.count, -topic.latest.timestamp(), topic.title))
    return Gaps(topics=topics, questions=len(questions), capped=capped, mode=mode,
                seconds=time.monotonic() - began)



def topic_draft(topic: Topic) -> dict[str, str]:
    """A draft article for a topic, as the admin's add form's fields: its typical question as the title, its
    example questions in the body under a line (in the topic's language) asking for the answer, its words as tags.
    The console and the admin put these in the add form's GET parameters, which prefill it."""
    with translation.override(topic.language):
        intro = _("Customers asked these questions that no article answered well. Write the answer here and "
                  "remove this list:")
    body = intro + "\n\n" + "\n".join(f"- {question}" for question in topic.examples) + "\n"
    return {"title": topic.title[:200], "body": body, "language": topic.language, "tags": ", ".join(topic.label)}
