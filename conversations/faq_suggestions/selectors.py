"""Reads of FAQ suggestions for the other apps' pages."""

from __future__ import annotations

from ..models import FAQSuggestion


def faq_suggestions_pending_count() -> int:
    """How many suggestions wait for a curator (the console's link to them shows it)."""
    return FAQSuggestion.objects.filter(status=FAQSuggestion.Status.PENDING).count()
