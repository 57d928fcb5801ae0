"""The agents' side: canned responses and the audit log of everything agents do."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Console(models.Model):
    """No table: it only carries the `agents.use_console` permission, so a role (a group or a user) can be given
    the console without the `agents` group and without being staff (agents.selectors.user_is_agent)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("use_console", "Can use the agents' console")]

    def __str__(self) -> str:
        return "console"


class CannedResponse(models.Model):
    """A ready answer an agent inserts by typing its /shortcut."""

    shortcut = models.SlugField(max_length=40, unique=True, help_text="Typed as /shortcut in the console.")
    title = models.CharField(max_length=120)
    body = models.TextField()
    language = models.CharField(max_length=8, choices=[("en", "English"), ("zh-hans", "简体中文")], default="en")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shortcut"]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class AuditEvent(models.Model):
    """Who did what to which conversation, and when. Written by agents.services, never edited."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=32, db_index=True)
    conversation = models.ForeignKey(
        "conversations.Conversation", null=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} #{self.conversation_id}"


class SavedView(models.Model):
    """An agent's named inbox filters (the `inbox` frame's status, search, channel, team, label, priority, mine),
    saved from the console and listed in its `hello` frame; each agent sees only their own (agents.saved_views)."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=60)
    filters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["agent", "name"], name="saved_view_name_unique")]

    def __str__(self) -> str:
        return f"{self.agent}: {self.name}"
