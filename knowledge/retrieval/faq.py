"""FAQ matching: a question's exact normalised phrasing first, then the most similar phrasing by vector."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from helpdesk.llm.text import language_of

from ..embedding import QueryVector
from .ranking import top
from .snapshot import current_faq_snapshot
from .terms import normalise_question


@dataclass
class FAQMatch:
    faq_id: int
    question: str
    answer: str
    how: str  # "exact" or "vector"
    score: float


def faq_match_exact(question: str, *, version: int | None = None) -> FAQMatch | None:
    """A published FAQ entry one of whose phrasings is the question, normalised. No Ollama call."""
    snapshot = current_faq_snapshot(version)
    faq_id = snapshot.exact.get(normalise_question(question))
    if faq_id is None:
        return None
    faq = snapshot.faqs[faq_id]
    return FAQMatch(faq_id=faq_id, question=faq.question, answer=faq.answer, how="exact", score=1.0)


def faq_match(question: str, *, query_vector: QueryVector | None = None, version: int | None = None) -> FAQMatch | None:
    """Exact match first, then the most similar phrasing in the question's language above FAQ_SIMILARITY_THRESHOLD."""
    exact = faq_match_exact(question, version=version)
    if exact is not None or query_vector is None or query_vector.vector is None:
        return exact
    snapshot = current_faq_snapshot(version)
    if not len(snapshot.vector_owner) or snapshot.vectors.shape[1] != query_vector.vector.shape[0]:
        return None
    similarities = snapshot.vectors @ query_vector.vector
    language = language_of(question)
    for row in top(similarities, min(len(similarities), 10)):
        score = float(similarities[row])
        if score < settings.FAQ_SIMILARITY_THRESHOLD:
            return None
        faq = snapshot.faqs[int(snapshot.vector_owner[row])]
        if faq.language == language:
            return FAQMatch(faq_id=faq.faq_id, question=faq.question, answer=faq.answer, how="vector", score=score)
    return None
