"""FAQ entries: saving, publishing, deleting, and embedding every phrasing for matching."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk.celery import enqueue
from helpdesk.llm import ollama as gateway

from ..embedding import embed_texts
from ..models import FAQ
from ..retrieval.terms import normalise_question
from .version import knowledge_version_bump, rows_delete


def faq_index_later(faq_id: int) -> None:
    """Queue the entry's embedding once the current transaction commits (task `knowledge.index_faq`)."""
    transaction.on_commit(lambda: enqueue("knowledge.index_faq", faq_id))


def faq_save(*, faq: FAQ, editor: Any = None, was_published: bool) -> FAQ:
    with transaction.atomic():
        if editor is not None and getattr(editor, "is_authenticated", False):
            faq.last_editor = editor
        faq.save()
        if was_published or faq.published:
            knowledge_version_bump()
        faq_index_later(faq.pk)
    return faq


def faq_add(*, question: str, answer: str, language: str, editor: Any = None, published: bool = True) -> FAQ:
    """A new entry (from an FAQ suggestion a curator published), embedded after the commit."""
    faq = FAQ(question=question.strip()[:500], answer=answer.strip(), language=language, published=published)
    return faq_save(faq=faq, editor=editor, was_published=False)


def faq_phrasing_add(*, faq_id: int, phrasing: str, editor: Any = None) -> FAQ:
    """Another way customers ask an entry's question, as an alternative phrasing (one per line); a phrasing the
    entry has already (normalised, as matching compares them) is not added twice. Re-embedded after the commit."""
    with transaction.atomic():
        faq = FAQ.objects.select_for_update().get(pk=faq_id)
        phrasing = " ".join(phrasing.split())
        known = {normalise_question(existing) for existing in faq.phrasings}
        if not phrasing or normalise_question(phrasing) in known:
            return faq
        faq.alternatives = "\n".join(line for line in (faq.alternatives.rstrip(), phrasing) if line)
        return faq_save(faq=faq, editor=editor, was_published=faq.published)


def faqs_set_published(*, faq_ids: Iterable[int], published: bool) -> int:
    with transaction.atomic():
        count = FAQ.objects.filter(pk__in=list(faq_ids)).exclude(published=published).update(
            published=published, updated_at=timezone.now()
        )
        if count:
            knowledge_version_bump()
    return count


def faqs_delete(*, faq_ids: Iterable[int]) -> int:
    return rows_delete(FAQ.objects.filter(pk__in=list(faq_ids)), published=True)


def faq_index(*, faq_id: int, force: bool = False) -> str:
    """Embed every phrasing of an FAQ entry, for matching questions that are worded differently."""
    faq = FAQ.objects.filter(pk=faq_id).first()
    if faq is None:
        return "missing"
    phrasings = faq.phrasings
    try:
        vectors = embed_texts(phrasings)
    except (gateway.OllamaError, ValueError) as exc:
        FAQ.objects.filter(pk=faq_id).update(
            index_error=f"exact matches only, embedding failed: {exc}", embeddings=None, embedding_dim=None,
            embed_model="",
        )
        return "failed"
    with transaction.atomic():
        locked = FAQ.objects.select_for_update().filter(pk=faq_id).first()
        if locked is None or locked.phrasings != phrasings:
            return "superseded"
        locked.embeddings = vectors.astype(np.float32).tobytes()
        locked.embedding_dim = vectors.shape[1]
        locked.embed_model = settings.OLLAMA_EMBED_MODEL
        locked.index_error = ""
        locked.save(update_fields=["embeddings", "embedding_dim", "embed_model", "index_error"])
        if locked.published:
            knowledge_version_bump()
    return "indexed"


