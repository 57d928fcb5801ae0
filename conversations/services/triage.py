"""Labels and priority an agent sets on a conversation in the console (rules set them at the handoff:
services.assignment). A new priority restarts nothing: the SLA due times are counted again from the handoff with
the team's targets for it."""

from __future__ import annotations

from django.db import transaction

from .. import events
from ..models import Conversation, Label, Priority
from .assignment import sla_due_set

MAX_LABELS = 10


def conversation_labels_set(*, conversation_id: int, names: list[str]) -> Conversation:
    """Give the conversation exactly these labels (made when new: agents label as they go); every console's
    inbox line changes."""
    names = sorted({name.strip()[:48] for name in names if name.strip()})[:MAX_LABELS]
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        labels = [Label.objects.get_or_create(name=name)[0] for name in names]
        conversation.labels.set(labels)
        events.inbox_changed_on_commit(conversation)
    return conversation


def conversation_priority_set(*, conversation_id: int, priority: str) -> Conversation:
    """Change the conversation's priority and its SLA due times with it."""
    if priority not in Priority.values:
        raise ValueError(f"unknown priority {priority!r}")
    with transaction.atomic():
        conversation = (Conversation.objects.select_for_update(of=("self",)).select_related("team")
                        .get(pk=conversation_id))
        conversation.priority = priority
        conversation.save(update_fields=["priority", *sla_due_set(conversation), "updated_at"])
        events.inbox_changed_on_commit(conversation)
    return conversation
