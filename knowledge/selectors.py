"""Reads of the knowledge base for admin pages and other apps.

`direct_answer_find` and `knowledge_lookup` are what a reply asks of the
knowledge base: an FAQ entry, a cached answer, or the sources to ground a
generated one in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from . import cache as answer_cache
from . import embedding
from .models import FAQ, Article, ImportJob, IndexStatus
from .retrieval import faq, search, similar, snapshot, terms
from .retrieval.coverage import question_units
from .retrieval.relevance import bears_on_question


@dataclass
class IndexState:
    level: str  # "ok", "warning", "error", "pending"
    text: str


def article_index_state(article: Article) -> IndexState:
    """What a curator needs to know about an article's place in retrieval, in one line."""
    # In the curator's language (the admin's list and form); the error detail is the indexer's own text.
    if article.index_status == IndexStatus.FAILED:
        return IndexState("error", _("failed: %(error)s") % {"error": article.index_error})
    if article.index_status == IndexStatus.PENDING or article.indexed_version is None:
        return IndexState("pending", pgettext("an article's index", "pending"))
    text = ngettext("indexed, %(n)d chunk", "indexed, %(n)d chunks", article.chunk_count) % {
        "n": article.chunk_count}
    if article.indexed_version != article.version:
        return IndexState("pending", _("%(state)s (of version %(version)s; re-indexing)") % {
            "state": text, "version": article.indexed_version})
    if not article.embedded:
        return IndexState("warning", _("%(state)s, keyword search only (%(why)s)") % {
            "state": text, "why": article.index_error or _("no vectors")})
    if article.embed_model != settings.OLLAMA_EMBED_MODEL:
        return IndexState("warning", _("%(state)s, vectors from %(model)s: run `manage.py reindex` for %(current)s") % {
            "state": text, "model": article.embed_model, "current": settings.OLLAMA_EMBED_MODEL})
    return IndexState("ok", text)


def import_job_status(job: ImportJob) -> dict[str, Any]:
    results = [dict(result) for result in job.results]
    return {
        "id": job.pk,
        "status": job.status,
        "total": job.total,
        "processed": job.processed,
        "percent": round(100 * job.processed / job.total) if job.total else 100,
        "succeeded": sum(1 for r in results if r.get("ok")),
        "failed": sum(1 for r in results if not r.get("ok")),
        "results": results,
    }


def retrieval_preview(*, question: str) -> dict[str, Any]:
    """What the bot would find for a question: ranked chunks with every score, and a direct FAQ answer if any."""
    query_vector = embedding.embed_query(question)
    result = search.search(question, query_vector=query_vector, limit=10, include_weak=True)
    match = faq.faq_match(question, query_vector=query_vector)
    used = 0
    for hit in result.hits:
        strong = hit.keyword_score > 0 or (
            hit.vector_score is not None and hit.vector_score >= settings.RETRIEVAL_MIN_VECTOR_SCORE
        )
        # The reply pipeline's own rule (conversations.scope gives sources by it).
        hit.in_prompt = strong and bears_on_question(hit) and used < settings.RETRIEVAL_TOP_K
        used += int(hit.in_prompt)
    return {
        "hits": result.hits,
        "keyword_only": result.keyword_only,
        "note": result.note,
        "faq": match,
        "embedding_error": query_vector.error,
        "top_k": settings.RETRIEVAL_TOP_K,
        "faq_threshold": settings.FAQ_SIMILARITY_THRESHOLD,
        "coverage_min": settings.COVERAGE_MIN,
    }


def article_ids_by_title(titles: list[str]) -> dict[str, list[int]]:
    """The articles of each title (more than one when titles repeat), for sets of cases naming them."""
    found: dict[str, list[int]] = {}
    for pk, title in Article.objects.filter(title__in=titles).order_by("pk").values_list("pk", "title"):
        found.setdefault(title, []).append(pk)
    return found


def faq_ids_by_question(questions: list[str]) -> dict[str, list[int]]:
    """The FAQ entries of each question text, like article_ids_by_title."""
    found: dict[str, list[int]] = {}
    for pk, question in FAQ.objects.filter(question__in=questions).order_by("pk").values_list("pk", "question"):
        found.setdefault(question, []).append(pk)
    return found


def faq_similar_find(*, question: str, language: str) -> similar.SimilarFAQ | None:
    """The FAQ entry (published or not) of `language` a new question is close to, for an FAQ suggestion to add
    the question to instead of making a new entry (FAQ_SUGGESTION_SIMILARITY by embeddings,
    FAQ_SUGGESTION_KEYWORD_OVERLAP by shared words where there are no vectors)."""
    return similar.faq_similar(question, language=language, vector_threshold=settings.FAQ_SUGGESTION_SIMILARITY,
                               keyword_threshold=settings.FAQ_SUGGESTION_KEYWORD_OVERLAP)


knowledge_version_once = snapshot.knowledge_version_once
knowledge_version_known = snapshot.knowledge_version_known
knowledge_version_column = snapshot.knowledge_version_column


def knowledge_version_current() -> int:
    """The published knowledge base's version now (bumped by every change that retrieval sees)."""
    return snapshot.knowledge_version()


# --- what a reply asks of the knowledge base ---------------------------------------------------


@dataclass
class Grounding:
    """What the knowledge base offers for one customer question."""

    version: int
    standalone: bool
    query: str
    faq: faq.FAQMatch | None = None
    cached: answer_cache.CachedAnswer | None = None
    result: search.SearchResult | None = None
    # False when nothing at all is published (no article, no FAQ entry): nothing to tell a question's scope by.
    searchable: bool = True

    def record(self) -> dict[str, Any]:
        """The message's `retrieval` field: enough for an agent (and the confidence) to see how it went."""
        record: dict[str, Any] = {"query": self.query, "kb_version": self.version, "standalone": self.standalone}
        if not self.searchable:
            record["empty_knowledge_base"] = True
        if self.faq:
            record["faq"] = {"id": self.faq.faq_id, "question": self.faq.question, "how": self.faq.how,
                             "score": round(self.faq.score, 4)}
        if self.result is not None:
            record["keyword_only"] = self.result.keyword_only
            if self.result.note:
                record["note"] = self.result.note
            scores = [hit.fused_score for hit in self.result.hits]
            record["best_score"] = round(scores[0], 5) if scores else 0.0
            record["score_gap"] = round(scores[0] - scores[1], 5) if len(scores) > 1 else (
                round(scores[0], 5) if scores else 0.0)
            vectors = [hit.vector_score for hit in self.result.hits if hit.vector_score is not None]
            record["best_vector_score"] = round(max(vectors), 4) if vectors else None
        return record


def direct_answer_find(*, question: str, has_history: bool, profile: str, use_cache: bool = True) -> Grounding | None:
    """An answer that needs neither Ollama nor a task: an exact FAQ match, or the answer cache.

    Cheap (a version read, a dict look-up, one cache read), so the web
    process runs it as the message is stored and answers at once. `profile`
    is the answer cache's profile part (what shapes a generated answer besides
    the question and the knowledge: the asking app computes it). `use_cache=False`: FAQ entries only.
    """
    grounding = _grounding_start(question=question, previous_question="", has_history=has_history)
    found = _stored_answer_find(grounding, question=question, profile=profile, use_cache=use_cache)
    return grounding if found else None


def _grounding_start(
    *, question: str, previous_question: str, has_history: bool, previous_answer: str = ""
) -> Grounding:
    version = snapshot.knowledge_version()
    standalone = not terms.is_follow_up(question, has_history=has_history, previous_answer=previous_answer)
    query = question if standalone or not previous_question else f"{previous_question}\n{question}"
    return Grounding(version=version, standalone=standalone, query=query)


def _stored_answer_find(grounding: Grounding, *, question: str, profile: str, use_cache: bool) -> bool:
    """The steps that need no Ollama: an exact FAQ match, then (standalone questions only) the cache."""
    grounding.faq = faq.faq_match_exact(question, version=grounding.version)
    if not grounding.faq and grounding.standalone and use_cache:
        grounding.cached = answer_cache.answer_cache_get(question=question, version=grounding.version, profile=profile)
    return bool(grounding.faq or grounding.cached)


def knowledge_lookup(
    *, question: str, previous_question: str, has_history: bool, profile: str, use_cache: bool = True,
    limit: int | None = None, previous_answer: str = "",
) -> Grounding:
    """FAQ, cache and retrieval for one question; stops at the first step that answers it. `use_cache=False`
    skips the answer cache (an evaluation run measures what the profile answers now); `limit`: how many search
    hits to return (RETRIEVAL_TOP_K unless given: more, for a caller that sets some aside). `previous_answer`: the
    conversation's last answer (the bot's or an agent's), which tells what a follow-up goes on about."""
    grounding = _grounding_start(question=question, previous_question=previous_question, has_history=has_history,
                                 previous_answer=previous_answer)
    if _stored_answer_find(grounding, question=question, profile=profile, use_cache=use_cache):
        return grounding
    version, standalone, query = grounding.version, grounding.standalone, grounding.query
    if not snapshot.has_searchable_knowledge(version=version):
        # Nothing to search: spare the embedding call (and its latency) entirely.
        grounding.searchable = False
        grounding.result = search.SearchResult(hits=[], keyword_only=False, note="no published knowledge",
                                                  version=version)
        return grounding
    if standalone or query == question:
        may_lean = has_history and previous_question and _may_lean(question)
        leaning = f"{previous_question}\n{question}" if may_lean else ""
        [query_vector, *context_vectors] = embedding.embed_queries([question, *([leaning] if leaning else [])])
        if standalone:
            grounding.faq = faq.faq_match(question, query_vector=query_vector, version=version)
            if grounding.faq:
                return grounding
        grounding.result = search.search(question, query_vector=query_vector, version=version, limit=limit,
                                         first=bears_on_question)
        if leaning and not any(bears_on_question(hit) for hit in grounding.result.hits):
            # A question that finds nothing on its own may lean on the one before it without saying so ("大概要
            # 几天才能回到我卡上?" after a double charge, "mine keeps bouncing" after "do you take Visa?"): read
            # with it, as a follow-up is; its answer then depends on the conversation, so it is not cached.
            grounding.result = search.search(question, query_vector=query_vector, version=version,
                                             context=(leaning, context_vectors[0]), limit=limit,
                                             first=bears_on_question, subject=previous_answer)
            grounding.standalone, grounding.query = False, leaning
    else:
        # One embedding call for both: the follow-up alone, and with the question it follows.
        query_vector, context_vector = embedding.embed_queries([question, query])
        grounding.result = search.search(
            question, query_vector=query_vector, version=version, context=(query, context_vector), limit=limit,
            first=bears_on_question, subject=previous_answer,
        )
    return grounding


def question_embedding_start(*, question: str, version: int | None = None) -> None:
    """Start now the embedding `knowledge_lookup` will ask for a standalone `question` with no history (a
    conversation's first), so that its round trip to the node runs beside the caller's own work; retrieval on this
    thread takes it. Nothing when the lookup will ask for none: nothing to search, or an FAQ entry is the question
    as written (the answer cache, a round trip of its own, is not asked here: the message's own check just missed)."""
    if snapshot.has_searchable_knowledge(version=version) and not faq.faq_match_exact(question, version=version):
        embedding.query_embedding_start(question)


def question_embedding_drop() -> None:
    """Forget an embedding `question_embedding_start` started and retrieval did not take (an FAQ answered)."""
    embedding.query_embedding_drop()


def _may_lean(question: str) -> bool:
    """Whether a question that finds nothing alone may lean on the one before: not when it says it opens a new
    subject ("btw…", "顺便问下…"), nor when it has a head of its own ("can you recommend a restaurant", "淘宝买的…"),
    which is what it asks about, whatever came before."""
    return not terms.opens_new_topic(question) and not any(
        unit.head or unit.whole_message for unit in question_units(question))


_product_names: tuple[tuple[int, str], tuple[str, ...]] = ((-1, ""), ())


def product_names() -> tuple[str, ...]:
    """The product names a customer's message is searched for (conversations.entities): PRODUCT_NAMES, and
    the tags of published articles that start with PRODUCT_TAG_PREFIX ("product:Gaiwan" names "Gaiwan"; an
    empty prefix makes every tag a name). Tags are kept per knowledge-base version in each process, so a
    message costs one small query for the version, as retrieval's snapshots do."""
    global _product_names
    key = (snapshot.knowledge_version(), settings.PRODUCT_TAG_PREFIX.casefold())
    if _product_names[0] != key:
        prefix = key[1]
        names: set[str] = set()
        for tags in Article.objects.filter(status=Article.Status.PUBLISHED).exclude(tags="").values_list(
            "tags", flat=True
        ):
            for tag in (part.strip() for part in tags.split(",")):
                if tag and tag.casefold().startswith(prefix):
                    names.add(tag[len(prefix):].strip())
        _product_names = (key, tuple(sorted(name for name in names if name)))
    return tuple(dict.fromkeys([*settings.PRODUCT_NAMES, *_product_names[1]]))


@dataclass(frozen=True)
class ArticleRow:
    """What the article health page shows of an article besides its use (conversations.stats.articles)."""

    article_id: int
    title: str
    language: str
    status: str
    updated_at: datetime  # last changed
    published_at: datetime | None


def articles_rows() -> list[ArticleRow]:
    """Every article, by title: the article health page lists them all, cited or not."""
    rows = Article.objects.order_by("title", "pk").values_list(
        "pk", "title", "language", "status", "updated_at", "published_at"
    )
    return [ArticleRow(*row) for row in rows]
