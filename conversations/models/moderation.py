"""The moderation lists (terms and patterns, kept in admin) and the record of every hit (conversations.moderation)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_noop


class ModerationCategory(models.TextChoices):
    """What a term is about; MODERATION_ACTIONS says, per category, what a hit does."""

    # Labels marked for makemessages (no-op at runtime, so the migrations see the same choices): the dashboard
    # shows them translated, and an unmarked label went obsolete in the catalog at the next `make translations`.
    POLITICS = "politics", gettext_noop("politics")
    ABUSE = "abuse", gettext_noop("abuse")
    FRAUD = "fraud", gettext_noop("fraud")
    SELF_HARM = "self_harm", gettext_noop("self-harm")
    ADS = "ads", gettext_noop("ads")
    OTHER = "other", gettext_noop("other")


class ModerationAction(models.TextChoices):
    """What a hit does: the message is refused politely, handed to a person, or let through and flagged."""

    REFUSE = "refuse", "refuse"
    HANDOFF = "handoff", "hand to a person"
    FLAG = "flag", "let through, flag for agents"


class ModerationTerm(models.Model):
    """A word or phrase (matched after normalisation, see conversations.moderation.matching) or a regular
    expression, in one category. A `blocked` term does what its category's action says; a `sensitive` one is
    only ever flagged for the agents."""

    class Kind(models.TextChoices):
        BLOCKED = "blocked", "blocked"
        SENSITIVE = "sensitive", "sensitive (flag only)"

    text = models.CharField(max_length=200, help_text="A word or phrase; with 'pattern', a regular expression.")
    is_pattern = models.BooleanField("pattern", default=False)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.BLOCKED)
    category = models.CharField(max_length=16, choices=ModerationCategory.choices, default=ModerationCategory.OTHER)
    # Comma-separated language codes of LANGUAGES ("en", "zh-hans"); empty: every language.
    languages = models.CharField(max_length=64, blank=True)
    enabled = models.BooleanField(default=True)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # With the count of rows, the lists' version: a process rebuilds its automaton when either changes.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["category", "text"]
        constraints = [
            models.UniqueConstraint(fields=["text", "is_pattern", "category"], name="moderation_term_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.text} ({self.category}, {self.kind})"

    def clean(self) -> None:
        if self.is_pattern:
            try:
                re.compile(self.text)
            except re.error as exc:
                raise ValidationError({"text": f"Not a valid regular expression: {exc}"}) from None
        from django.conf import settings

        known = {code for code, _ in settings.LANGUAGES}
        unknown = [code for code in self.language_codes() if code not in known]
        if unknown:
            raise ValidationError({"languages": f"Unknown language code(s): {', '.join(unknown)}"})

    def language_codes(self) -> list[str]:
        return [code.strip() for code in self.languages.split(",") if code.strip()]


class ModerationHit(models.Model):
    """One term (or the moderation model) found in one message: what the agents and the figures see. The
    matched text is not kept here (the message has it, and erasure removes both)."""

    class Where(models.TextChoices):
        INBOUND = "inbound", "customer's message"
        OUTBOUND = "outbound", "bot's reply"

    message = models.ForeignKey("conversations.Message", on_delete=models.CASCADE, related_name="moderation_hits")
    term = models.ForeignKey(ModerationTerm, null=True, blank=True, on_delete=models.SET_NULL, related_name="hits")
    category = models.CharField(max_length=16, choices=ModerationCategory.choices, db_index=True)
    where = models.CharField(max_length=8, choices=Where.choices)
    action = models.CharField(max_length=8, choices=ModerationAction.choices)
    # "list" (a term) or "model" (MODERATION_MODEL)
    source = models.CharField(max_length=8, default="list")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.category} {self.where} {self.action} on message {self.message_id}"
