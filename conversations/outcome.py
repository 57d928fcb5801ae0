"""What one generation (or a direct answer) produced, in plain values, and where each value is stored.

A module of its own so that the pipeline, which produces it, and the
services, which store it, both import it without importing each other; the
direct answers (an FAQ entry's, a cached one) are built here too, because
the web process gives them without the pipeline. The telemetry of a reply
(model, node, timings, tokens) is stored twice, on the reply's Message and on
its LLMCall record: which columns, and from what, is said here once
(`reply_columns`, `llm_call_columns`) for every writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge.selectors import Grounding

from . import confidence, scope
from .models import Message
from .protocol.codes import HandoffReason


@dataclass
class ReplyOutcome:
    """What a generation produced, in plain values (see pipeline.streaming)."""

    status: str
    content: str = ""
    reasoning: str = ""
    model_name: str = ""
    ollama_host: str = ""
    ttft_ms: float | None = None
    total_ms: float | None = None
    prompt_tokens: int | None = None
    reply_tokens: int | None = None
    done_reason: str = ""
    error_kind: str = ""
    error: str = ""
    customer_notice: str = ""
    confidence: float | None = None
    confidence_signals: dict[str, Any] = field(default_factory=dict)
    unverified_facts: list[dict[str, Any]] = field(default_factory=list)
    handoff_reason: str = ""
    answer_source: str = Message.AnswerSource.LLM
    sources: list[dict[str, Any]] = field(default_factory=list)
    retrieval: dict[str, Any] = field(default_factory=dict)
    # Built from something about this customer (who they are, an action's result): never put in the answer cache.
    personal: bool = False

    def reply_columns(self, *, claimed_model: str = "") -> dict[str, Any]:
        """The bot reply's columns (Message) this outcome fills: one mapping for every writer of a reply.

        `claimed_model` is the model the reply was started with: kept for a
        generated reply that names none (it failed before the stream said), left
        out of an FAQ answer, which no model wrote.
        """
        columns = {name: getattr(self, name) for name in REPLY_COLUMNS + CALL_COLUMNS}
        generated = self.answer_source == Message.AnswerSource.LLM
        columns["model_name"] = self.model_name or (claimed_model if generated else "")
        return columns


# The telemetry of one model call: columns of Message and of LLMCall alike, fields of ReplyOutcome of the same
# names. A reply's LLMCall is its Message's copy of them (see llm_call_columns).
CALL_COLUMNS = ("ollama_host", "ttft_ms", "total_ms", "prompt_tokens", "reply_tokens", "done_reason", "error")
# The rest of what a finished reply stores of its outcome.
REPLY_COLUMNS = (
    "content", "reasoning", "status", "answer_source", "sources", "retrieval", "confidence", "confidence_signals",
    "unverified_facts",
)


def llm_call_columns(reply: Message) -> dict[str, Any]:
    """The LLMCall columns of a finished bot reply's call: which model, where, how long, how many tokens."""
    return {
        "conversation_id": reply.conversation_id,
        "message": reply,
        "profile_id": reply.profile_id,
        "model_name": reply.model_name,
        **{name: getattr(reply, name) for name in CALL_COLUMNS},
    }



def outcome_judge(outcome: ReplyOutcome, signals: confidence.Signals, *, threshold: float) -> None:
    """Fill in the outcome's confidence, its signals and the handoff it calls for."""
    outcome.confidence = confidence.score(signals) if signals.status != Message.Status.CANCELLED else None
    outcome.confidence_signals = signals.as_dict()
    outcome.handoff_reason = confidence.handoff_reason(signals, outcome.confidence, threshold=threshold)


def direct_outcome(grounding: Grounding, *, handoff_threshold: float) -> ReplyOutcome:
    """A reply that needs no generation: an FAQ entry's answer, or a cached answer."""
    if grounding.faq:
        outcome = ReplyOutcome(
            status=Message.Status.COMPLETE,
            content=grounding.faq.answer,
            answer_source=Message.AnswerSource.FAQ,
            retrieval=grounding.record(),
            total_ms=0.0,
        )
        signals = confidence.Signals(answer_source=outcome.answer_source, status=outcome.status,
                                     faq_how=grounding.faq.how, faq_score=round(grounding.faq.score, 4))
    else:
        assert grounding.cached is not None
        outcome = ReplyOutcome(
            status=Message.Status.COMPLETE,
            content=grounding.cached.content,
            model_name=grounding.cached.model_name,
            answer_source=Message.AnswerSource.CACHE,
            sources=grounding.cached.sources,
            retrieval={**grounding.record(), "cache_hit": True},
            total_ms=0.0,
        )
        signals = confidence.Signals(answer_source=outcome.answer_source, status=outcome.status,
                                     cached_confidence=grounding.cached.confidence)
    outcome_judge(outcome, signals, threshold=handoff_threshold)
    return outcome


def declined_outcome(grounding: Grounding, *, language: str, retrieval_extra: dict[str, Any]) -> ReplyOutcome:
    """The reply to a question no source bears on and that is not small talk (conversations.scope): a fixed
    text offering a person, or a hand-off to one (NO_SOURCE_ACTION); no model writes it, so none can answer
    from its general knowledge. Marked `declined` in its signals and retrieval for the agents and evaluation."""
    handoff = scope.no_source_action() == scope.HANDOFF
    outcome = ReplyOutcome(
        status=Message.Status.COMPLETE,
        content=scope.handoff_text(language) if handoff else scope.decline_text(language),
        answer_source=Message.AnswerSource.DECLINED,
        retrieval={**grounding.record(), **retrieval_extra, "declined": True},
        total_ms=0.0,
    )
    signals = confidence.Signals(answer_source=outcome.answer_source, status=outcome.status, declined=True)
    outcome.confidence = confidence.score(signals)
    outcome.confidence_signals = signals.as_dict()
    outcome.handoff_reason = HandoffReason.NO_KNOWLEDGE if handoff else ""
    return outcome
