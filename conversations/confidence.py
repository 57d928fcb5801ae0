"""How sure the bot is of a reply, from signals that are each stored with it.

A plain function of plain values, so the rule is easy to read, test and
tune: the signals come from retrieval (how relevant the best source was, and
by how much it beat the next), from the reply (did it cite the sources it
was given, did the model say they do not cover the question, was it cut off
or empty, did it give a number or link that neither its sources nor the customer's messages contain: see
conversations.verification) and from how the reply was made (FAQ entries and cached answers
are trusted). Below the profile's handoff threshold the conversation goes to a human.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings

from .protocol.codes import HandoffReason

# The fixed marker the model is told to start with when the sources do not answer the question.
NO_ANSWER_MARKER = "[NO-ANSWER]"
# The most a reply with an unverified fact may score: under any sensible threshold, whatever else it has for it.
UNVERIFIED_CAP = 0.3


@dataclass
class Signals:
    answer_source: str  # "llm", "faq", "cache"
    status: str  # the message status: "complete", "failed", "cancelled"
    faq_how: str = ""  # "exact" or "vector" for FAQ answers
    faq_score: float | None = None
    cached_confidence: float | None = None
    sources_given: int = 0
    cited: bool = False
    relevance: float | None = None  # best source's relevance in [0, 1]
    relevance_gap: float | None = None  # how far the best source is ahead of the next, in [0, 1]
    keyword_only: bool = False
    no_answer_marker: bool = False
    truncated: bool = False  # done_reason "length": the model ran out of num_predict
    empty: bool = False
    unverified_facts: int | None = None  # facts of the reply nothing supports; None: not checked


    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


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


def score(signals: Signals) -> float:
    """The confidence in [0, 1] (see the module docstring for what each signal means)."""
    if signals.status != "complete" or signals.empty:
        return 0.0
    if signals.answer_source == "faq":
        return 1.0 if signals.faq_how == "exact" else round(signals.faq_score or 0.0, 3)
    if signals.answer_source == "cache":
        return round(min(signals.cached_confidence if signals.cached_confidence is not None else 0.9, 0.95), 3)
    if signals.no_answer_marker:
        return 0.1
    if not signals.sources_given:
        # Nothing in the knowledge base was relevant and the model did not say it could not answer:
        # small talk ("hi", "thanks"), which it may answer, but never with much confidence.
        value = 0.6
    else:
        value = 0.3 + 0.4 * (signals.relevance or 0.0) + 0.2 * signals.cited
        value += 0.1 * min((signals.relevance_gap or 0.0) / 0.2, 1.0)
    if signals.truncated:
        value *= 0.6
    if signals.unverified_facts:
        value = min(value, UNVERIFIED_CAP)
    return round(min(max(value, 0.0), 1.0), 3)


def handoff_reason(signals: Signals, confidence: float | None, *, threshold: float) -> HandoffReason | str:
    """Why this reply hands the conversation to a human, or "" when it does not."""
    if signals.status == "failed":
        return HandoffReason.MODEL_ERROR
    if signals.status != "complete":
        return ""  # stopped by the customer, or by an agent taking over
    if signals.no_answer_marker:
        return HandoffReason.NO_KNOWLEDGE
    if signals.unverified_facts:
        return HandoffReason.UNVERIFIED_FACT
    if confidence is not None and confidence < threshold:
        return HandoffReason.LOW_CONFIDENCE
    return ""
