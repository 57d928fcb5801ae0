"""The record of a customer's rights served: each export and erasure, who asked, how, and what it covered."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class PrivacyRequest(models.Model):
    """One export or erasure, kept as the audit record a data-protection officer shows (conversations cannot
    write agents' AuditEvent). It names no one: the subject is kept as a keyed digest of what they were looked
    up by, so a later request for the same person can be matched without the record identifying them."""

    class Kind(models.TextChoices):
        EXPORT = "export", "Export"
        ERASE = "erase", "Erasure"

    class Channel(models.TextChoices):
        ADMIN = "admin", "Admin"
        COMMAND = "command", "Command line"
        WIDGET = "widget", "Widget"

    kind = models.CharField(max_length=8, choices=Kind.choices, db_index=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # "external_id", "email", "token", "customer" or "conversation" (an admin action on rows).
    looked_up_by = models.CharField(max_length=40)
    subject_digest = models.CharField(max_length=64, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What it covered: {"conversations.message": 12, "store:answer cache": 1}.
    counts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # An erasure's stores (the answer cache, Redis) are cleared after its transaction commits.
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "privacy request"
        permissions = [
            ("export_personal_data", "Can export a customer's personal data"),
            ("erase_personal_data", "Can erase a customer's personal data"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} ({self.looked_up_by})"
