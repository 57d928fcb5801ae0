"""The existing FAQ entry a new question is closest to, for suggestions made from agents' answers.

Unlike `faq` (answering a customer at once: published entries, a high threshold, the in-memory snapshot), this
reads every entry of the question's language, published or not, from the database: a curator should add a
phrasing to a draft entry rather than write a second one. An entry whose vectors come from the current embedding
model is compared by cosine similarity with the question's embedding; one without (never embedded, embedding
failed, another model), or every entry when the question cannot be embedded, by the share of words the question
and its closest phrasing have in common (Dice's coefficient of `terms.comparison_terms`: English words, Chinese
character pairs once the segmenter has taken the stop words out). Each measure has its own threshold; the best
entry over its threshold wins, vectors first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings

from ..embedding import embed_query
from ..models import FAQ
from .terms import comparison_terms, normalise_question

VECTOR, KEYWORDS, EXACT = "vector", "keywords", "exact"


@dataclass(frozen=True)
class SimilarFAQ:
    faq_id: int
    question: str
    score: float
    how: str  # EXACT, VECTOR or KEYWORDS


def word_overlap(a: str, b: str) -> float:
    """Dice's coefficient of the two texts' words: 1 for the same words, 0 for none in common."""
    first, second = comparison_terms(a), comparison_terms(b)
    if not first or not second:
        return 0.0
    return 2 * len(first & second) / (len(first) + len(second))


def _vectors(faq: FAQ) -> np.ndarray | None:
    if not faq.embeddings or not faq.embedding_dim or faq.embed_model != settings.OLLAMA_EMBED_MODEL:
        return None
    return np.frombuffer(bytes(faq.embeddings), dtype=np.float32).reshape(-1, faq.embedding_dim)


def faq_similar(
    question: str, *, language: str, vector_threshold: float, keyword_threshold: float
) -> SimilarFAQ | None:
    """The entry of `language` closest to `question` over its measure's threshold, or None."""
    faqs = list(FAQ.objects.filter(language=language).order_by("pk"))
    if not faqs:
        return None
    asked = normalise_question(question)
    for faq in faqs:
        if asked and any(normalise_question(phrasing) == asked for phrasing in faq.phrasings):
            return SimilarFAQ(faq.pk, faq.question, 1.0, EXACT)
    by_vector = {faq.pk: vectors for faq in faqs if (vectors := _vectors(faq)) is not None}
    query = embed_query(question).vector if by_vector else None
    best_vector: SimilarFAQ | None = None
    best_words: SimilarFAQ | None = None
    for faq in faqs:
        vectors = by_vector.get(faq.pk)
        if query is not None and vectors is not None and vectors.shape[1] == query.shape[0]:
            score = float(np.max(vectors @ query))
            if score >= vector_threshold and (best_vector is None or score > best_vector.score):
                best_vector = SimilarFAQ(faq.pk, faq.question, score, VECTOR)
            continue
        score = max(word_overlap(question, phrasing) for phrasing in faq.phrasings)
        if score >= keyword_threshold and (best_words is None or score > best_words.score):
            best_words = SimilarFAQ(faq.pk, faq.question, score, KEYWORDS)
    return best_vector or best_words
