"""The reply pipeline: from a stored customer message to a stored, streamed bot reply.

FAQ direct answer (exact, with no Ollama call at all) -> answer cache
(standalone questions only; filled only by answers to a conversation's first
message, see `reply.cache_refusal`) -> one embedding of the question -> FAQ by
similarity -> hybrid retrieval (those steps are knowledge.selectors.knowledge_lookup)
-> a prompt with numbered, delimited sources within the token budget
(conversations.prompting) -> a streaming chat on Ollama (`streaming`), whose
`[n]` citation markers are taken out of the text and stored as the reply's
sources (`citations`), and which is stopped if it repeats the system prompt's
canary (conversations.guard) -> confidence and handoff (`reply`). Agents'
drafts (`draft`) share the steps up to the prompt (`preparation`).

Import the modules themselves (`from conversations.pipeline import reply`):
this package imports none of them, so that importing one costs no more than
that module. It keeps two names for conversations.services until services
imports them from knowledge.selectors and conversations.outcome.
"""

from __future__ import annotations

from helpdesk.models import ModelProfile
from knowledge import selectors as knowledge_selectors
from knowledge.selectors import Grounding

from ..outcome import direct_outcome
from ..prompting import profile_cache_key

__all__ = ["direct_answer_find", "direct_outcome"]


def direct_answer_find(*, question: str, has_history: bool, profile: ModelProfile) -> Grounding | None:
    """The old entry point of conversations.services' direct answers, kept until services calls
    knowledge.selectors.direct_answer_find with `prompting.profile_cache_key` itself."""
    return knowledge_selectors.direct_answer_find(
        question=question, has_history=has_history, profile=profile_cache_key(profile, question=question)
    )
