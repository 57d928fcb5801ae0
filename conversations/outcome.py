"""What one generation (or a direct answer) produced, in plain values.

A module of its own so that the pipeline, which produces it, and the
services, which store it, both import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .models import Message


@dataclass
class ReplyOutcome:
    """What a generation produced, in plain values (see pipeline.stream_reply)."""

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
    handoff_reason: str = ""
    answer_source: str = Message.AnswerSource.LLM
    sources: list[dict[str, Any]] = field(default_factory=list)
    retrieval: dict[str, Any] = field(default_factory=dict)
    # Built from something about this customer (who they are, an action's result): never put in the answer cache.
    personal: bool = False
