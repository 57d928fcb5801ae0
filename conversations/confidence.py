"""How sure the bot is of a reply, from signals that are each stored with it.

A plain function of plain values, so the rule is easy to read, test and
tune. The signals, and why each counts:

- from retrieval: `relevance`, how relevant the best source given was (BM25 and vector similarity, see
  knowledge.retrieval.relevance), and `relevance_gap`, by how much it beat the next (a clear winner is likelier
  the answer); `coverage`, the share of the question's content words the best-covering source contains
  (knowledge.retrieval.coverage), because a source sharing one word of the question ("Hangzhou" of "the
  weather in Hangzhou") ranks first without being about it; `keyword_only` when the embedding model was
  missing (recorded, not scored);
- from the reply: `cited`, did it cite the sources it was given; `no_answer_marker`, did the model say they
  do not cover the question; `truncated` or `empty`; `unverified_facts`, a number or link that neither its
  sources nor the conversation contain (conversations.verification); `judge_supported` and
  `judge_unsupported`, a judge model's verdict on each sentence when JUDGE_MODEL is set (conversations.judge;
  `judge_error` when it gave none);
- from how the reply was made: FAQ entries and cached answers are trusted; `small_talk` (its kind) for a
  message that is only a greeting, thanks or the like, answered without a source at a fixed 0.6 (the only
  reply without a source the model writes); `declined` for the fixed reply to a question no source
  covers (conversations.scope), which no model wrote: low, but no reason for a person by itself;
  `empty_knowledge_base` when nothing at all is published, so there is no scope to judge a question by (a
  set-up state: the model answers, told to begin with the no-answer marker when it cannot, at 0.6 as small talk).

Below the profile's handoff threshold the conversation goes to a human.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .protocol.codes import HandoffReason

# The fixed marker the model is told to start with when the sources do not answer the question.
NO_ANSWER_MARKER = "[NO-ANSWER]"
# The most a reply with an unverified fact may score: under any sensible threshold, whatever else it has for it.
UNVERIFIED_CAP = 0.3
# Small talk answered without a source: above the default threshold, below any sourced answer's best.
SMALL_TALK_CONFIDENCE = 0.6
# A reply without a source that is not small talk: nothing vouches for it.
NO_SOURCE_CONFIDENCE = 0.2
# The fixed "I can't help with that here" reply: it answers nothing, so it is not confident of an answer.
DECLINED_CONFIDENCE = 0.2


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
    coverage: float | None = None  # best share of the question's content words a given source contains
    small_talk: str | None = None  # the kind of small talk (conversations.smalltalk) answered without a source
    declined: bool | None = None  # the fixed reply to a question no source covers (conversations.scope)
    empty_knowledge_base: bool | None = None  # nothing is published: no scope to judge by
    judge_supported: float | None = None  # share of the reply's sentences the judge found supported
    judge_unsupported: list[str] | None = None  # the sentences it did not
    judge_error: str | None = None  # why the judge gave no verdict (timeout, invalid answer)

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def score(signals: Signals) -> float:
    """The confidence in [0, 1] (see the module docstring for what each signal means)."""
    if signals.status != "complete" or signals.empty:
        return 0.0
    if signals.answer_source == "faq":
        return 1.0 if signals.faq_how == "exact" else round(signals.faq_score or 0.0, 3)
    if signals.answer_source == "cache":
        return round(min(signals.cached_confidence if signals.cached_confidence is not None else 0.9, 0.95), 3)
    if signals.declined:
        return DECLINED_CONFIDENCE
    if signals.no_answer_marker:
        return 0.1
    if not signals.sources_given:
        unjudged = signals.small_talk or signals.empty_knowledge_base
        value = SMALL_TALK_CONFIDENCE if unjudged else NO_SOURCE_CONFIDENCE
    else:
        value = 0.3 + 0.4 * (signals.relevance or 0.0) + 0.2 * signals.cited
        value += 0.1 * min((signals.relevance_gap or 0.0) / 0.2, 1.0)
        # Sources covering half the question or more count fully; below that the confidence shrinks toward
        # half of it, so a strong match on one word of the question ("Hangzhou" of the weather there) is
        # not a confident answer. Unmeasured (None): nothing to shrink it by.
        coverage = 1.0 if signals.coverage is None else signals.coverage
        value *= min(1.0, 0.5 + coverage)
    if signals.truncated:
        value *= 0.6
    if signals.unverified_facts or signals.judge_unsupported:
        value = min(value, UNVERIFIED_CAP)
    return round(min(max(value, 0.0), 1.0), 3)


def handoff_reason(signals: Signals, confidence: float | None, *, threshold: float) -> HandoffReason | str:
    """Why this reply hands the conversation to a human, or "" when it does not."""
    if signals.status == "failed":
        return HandoffReason.MODEL_ERROR
    if signals.status != "complete":
        return ""  # stopped by the customer, or by an agent taking over
    if signals.declined:
        return ""  # the customer was offered a person; the bot keeps the conversation until they ask
    if signals.no_answer_marker:
        return HandoffReason.NO_KNOWLEDGE
    if signals.unverified_facts:
        return HandoffReason.UNVERIFIED_FACT
    if signals.judge_unsupported:
        return HandoffReason.UNSUPPORTED_CLAIM
    if confidence is not None and confidence < threshold:
        return HandoffReason.LOW_CONFIDENCE
    return ""
