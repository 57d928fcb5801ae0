"""Whether a retrieved chunk bears on the question: the rule the reply pipeline (conversations.scope) gives
sources to the model by, and the admin's test-retrieval page shows, so the two cannot disagree.

A chunk bears on the question when its vector similarity alone is strong (RELEVANCE_STRONG: a paraphrase or
another language shares no words), or when it is relevant enough (RELEVANCE_MIN, off by default) and it or its
article covers enough of the question's content words (COVERAGE_MIN; knowledge.retrieval.coverage).
"""

from __future__ import annotations

from django.conf import settings

from .search import Hit


def relevance_of(*, vector_score: float | None, keyword_score: float) -> float:
    """A source's relevance in [0, 1]: the stronger of its vector similarity (rescaled between the
    CONFIDENCE_VECTOR_FLOOR, where unrelated texts sit, and CONFIDENCE_VECTOR_CEILING) and its BM25
    score (saturating: s / (s + CONFIDENCE_KEYWORD_HALF))."""
    floor, ceiling = settings.CONFIDENCE_VECTOR_FLOOR, settings.CONFIDENCE_VECTOR_CEILING
    by_vector = 0.0
    if vector_score is not None and ceiling > floor:
        by_vector = min(max((vector_score - floor) / (ceiling - floor), 0.0), 1.0)
    by_keyword = keyword_score / (keyword_score + settings.CONFIDENCE_KEYWORD_HALF) if keyword_score > 0 else 0.0
    return max(by_vector, by_keyword)


def hit_relevance(hit: Hit) -> float:
    return relevance_of(vector_score=hit.vector_score, keyword_score=hit.keyword_score)


def hit_by_meaning(hit: Hit) -> float:
    """The chunk's relevance by its vector similarity alone (what a paraphrase or another language shares)."""
    return relevance_of(vector_score=hit.vector_score, keyword_score=0.0)


def hit_covers(hit: Hit) -> float:
    """How much of the question the chunk's article covers (its chunks between them; the chunk's own share
    where no article figure is known)."""
    return max(hit.coverage or 0.0, hit.article_coverage or 0.0)


# A follow-up's source of the article the conversation's last answer came from (Hit.continues_subject) needs this
# share of COVERAGE_MIN: the answer before settled what it is about, and its own words are a detail of that ("and
# if I only noticed it a week after it arrived?" after breakage in transit), which the article need not say.
CONTINUING_COVERAGE_SHARE = 0.5


def bears_on_question(hit: Hit) -> bool:
    """Whether the chunk bears on the question (see the module docstring)."""
    if hit_by_meaning(hit) >= settings.RELEVANCE_STRONG:
        return True
    needed = settings.COVERAGE_MIN * (CONTINUING_COVERAGE_SHARE if hit.continues_subject else 1.0)
    return hit_relevance(hit) >= settings.RELEVANCE_MIN and hit_covers(hit) >= needed
