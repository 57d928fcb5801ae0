"""Each move of a conversation to the human queue, kept as its own row.

`Conversation.handoff_reason` and `handoff_at` say only how its latest handoff went (the inbox sorts and times
waiting by them); a conversation handed back to the bot and handed off again later keeps both handoffs here, so
the knowledge gaps count each question the bot could not answer, the agents' report times each first response,
and a conversation's teams and agents over its life can be read back. Written by the one place a handoff happens
(conversations.services.handoff.conversation_transition) and updated as it goes on: who was given it, the first
agent reply, and how it ended (handed back to the bot, or resolved).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ..protocol.codes import HandoffReason

__all__ = ["Handoff"]


class Handoff(models.Model):
    class Outcome(models.TextChoices):
        HANDED_BACK = "handed_back", "Handed back to the bot"
        RESOLVED = "resolved", "Resolved"

    # Its index is the (conversation, at) one below: a conversation's handoffs in order.
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE, db_index=False,
                                     related_name="handoffs")
    reason = models.CharField(max_length=32, blank=True, choices=HandoffReason.choices)
    at = models.DateTimeField(db_index=True)
    # The customer message it followed (the question a failed reply answered, the request for a person, the
    # complaint), when known.
    question = models.ForeignKey("conversations.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    # The team whose queue it went to (conversations.services.assignment).
    team = models.ForeignKey("conversations.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="handoffs")
    # The agent who has it: given it by assignment, taking it over, or assigned it by a colleague (the latest).
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # The first agent reply after it, and its author (credited with the first response).
    first_response_at = models.DateTimeField(null=True, blank=True)
    responder = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    # When it ended and how: the conversation handed back to the bot or resolved. Empty while it is open (at most
    # one open handoff per conversation).
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["conversation", "at"], name="handoff_conversation_at")]

    def __str__(self) -> str:
        return f"Handoff of conversation {self.conversation_id} ({self.reason})"
