"""A customer's data, for them: every registered holder's rows and every store's export as JSON, and the
conversations as a readable transcript (HTML, printable from the browser: no PDF library is installed).

The conversation token is left out of both: it is the key to the conversation, and an export file travels."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils import timezone, translation

from helpdesk import i18n
from helpdesk.privacy import DataSubject, holders, stores

from ..models import Conversation, Customer, Feedback, Message
from .subjects import holder_rows, model_label

EXPORT_FORMAT = "helpdesk-personal-data/1"
# What the customer saw: private notes and the model's reasoning are the agents' (they are in the JSON export).
TRANSCRIPT_ROLES = (Message.Role.CUSTOMER, Message.Role.BOT, Message.Role.AGENT, Message.Role.SYSTEM)
NOT_EXPORTED = {"token"}


def subject_export(subject: DataSubject) -> dict[str, Any]:
    data: dict[str, list[dict[str, Any]]] = {}
    for holder in holders():
        fields = holder.export_fields or [
            field.attname for field in holder.model._meta.concrete_fields if field.name not in NOT_EXPORTED
        ]
        data[model_label(holder.model)] = list(holder_rows(holder, subject).order_by("pk").values(*fields))
    return {
        "format": EXPORT_FORMAT,
        "generated_at": timezone.now(),
        "subject": {"customers": len(subject.customer_ids), "conversations": len(subject.conversation_ids)},
        "data": data,
        "stores": {store.name: store.export(subject) for store in stores() if store.export is not None},
    }


def export_json(subject: DataSubject) -> str:
    return json.dumps(subject_export(subject), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def export_counts(subject: DataSubject) -> dict[str, int]:
    """How many rows of each holder the subject has (the request's record, the erasure's confirmation)."""
    return {model_label(holder.model): holder_rows(holder, subject).count() for holder in holders()}


def transcript_html(subject: DataSubject, *, language: str = "en") -> str:
    language = i18n.supported_language(language)
    conversations = Conversation.objects.filter(pk__in=subject.conversation_ids).order_by("created_at", "pk")
    messages = Message.objects.filter(conversation_id__in=subject.conversation_ids, role__in=TRANSCRIPT_ROLES)
    votes = dict(
        Feedback.objects.filter(conversation_id__in=subject.conversation_ids).values_list("message_id", "rating")
    )
    by_conversation: dict[int, list[dict[str, Any]]] = {}
    for message in messages.order_by("id"):
        if message.content:
            by_conversation.setdefault(message.conversation_id, []).append(
                {"message": message, "vote": votes.get(message.pk)}
            )
    with translation.override(language):
        return render_to_string(
            "conversations/privacy/transcript.html",
            {
                "language": language,
                "generated_at": timezone.now(),
                "customers": Customer.objects.filter(pk__in=subject.customer_ids).order_by("pk"),
                "conversations": [
                    {"conversation": c, "messages": by_conversation.get(c.pk, [])} for c in conversations
                ],
            },
        )
