"""The answer cache: a frequent standalone question answered once per knowledge-base version.

The key holds the normalised question, the knowledge-base version and the
model profile, so publishing or unpublishing anything (which bumps the
version) makes every older entry unreachable: a stale answer is never served.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

from .retrieval import normalise_question


@dataclass
class CachedAnswer:
    content: str
    sources: list[dict[str, Any]] = field(default_factory=list)
    model_name: str = ""
    confidence: float | None = None


def answer_cache_key(*, question: str, version: int, profile: str) -> str:
    digest = hashlib.sha256(f"{normalise_question(question)}\x00{profile}".encode()).hexdigest()[:40]
    return f"answer:v{version}:{digest}"


def answer_cache_get(*, question: str, version: int, profile: str) -> CachedAnswer | None:
    if not settings.ANSWER_CACHE_ENABLED or not normalise_question(question):
        return None
    value = cache.get(answer_cache_key(question=question, version=version, profile=profile))
    if not isinstance(value, dict) or not value.get("content"):
        return None
    return CachedAnswer(
        content=value["content"], sources=value.get("sources", []), model_name=value.get("model", ""),
        confidence=value.get("confidence"),
    )


def answer_cache_put(*, question: str, version: int, profile: str, answer: CachedAnswer) -> None:
    if not settings.ANSWER_CACHE_ENABLED or not normalise_question(question) or not answer.content:
        return
    cache.set(
        answer_cache_key(question=question, version=version, profile=profile),
        {"content": answer.content, "sources": answer.sources, "model": answer.model_name,
         "confidence": answer.confidence},
        settings.ANSWER_CACHE_TTL_S,
    )
