"""FAQ entries suggested from agents' answers (conversations.faq_suggestions), for a curator to publish or dismiss.

A suggestion copies the customer's question and the agent's answer with their personal data taken out (the
customer's own words never reach the knowledge base unreviewed); when its question is close to an existing FAQ
entry, `faq` names that entry and publishing adds the question to it as an alternative phrasing instead of
making a new entry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from knowledge.models import Language


class FAQSuggestion(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PUBLISHED = "published", _("published")
        DISMISSED = "dismissed", _("dismissed")

    question = models.TextField(_("question"))
    answer = models.TextField(_("answer"))
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, db_index=True)
    # The conversation it came from, and the agent's answer it was made from (one suggestion per answer: the
    # task that makes it may run twice).
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="+", verbose_name=_("conversation")
    )
    source_message = models.OneToOneField("conversations.Message", on_delete=models.CASCADE, related_name="+")
    # The question and answer as the conversation had them, personal data masked, before any tidying by the model.
    original_question = models.TextField(blank=True, editable=False)
    original_answer = models.TextField(blank=True, editable=False)
    # "model" when the tidy model rewrote them, "" when they are as written.
    tidied_by = models.CharField(_("tidied by"), max_length=128, blank=True, editable=False)
    # The existing entry this question is close to: publishing adds it there as an alternative phrasing.
    faq = models.ForeignKey(
        "knowledge.FAQ", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("existing FAQ entry"),
        help_text=_("Publishing adds the question to this entry as an alternative phrasing; empty: a new entry."),
    )
    similarity = models.FloatField(null=True, blank=True, editable=False)
    similarity_how = models.CharField(max_length=16, blank=True, editable=False)  # "vector" or "keywords"
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False, verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    # The FAQ entry publishing made or changed.
    published_faq = models.ForeignKey(
        "knowledge.FAQ", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("FAQ suggestion")
        verbose_name_plural = _("FAQ suggestions")

    def __str__(self) -> str:
        return self.question[:80]
