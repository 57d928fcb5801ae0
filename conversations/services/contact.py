"""How to reach the customer: the pre-chat form's name and email, an address left outside working hours."""

from __future__ import annotations

from django.db import transaction

from helpdesk.encrypted_fields import derived_columns

from .. import events, notices
from ..models import Conversation
from ..notices import notice_in
from ..protocol import fields
from ..selectors.replies import customer_language
from .posting import system_message_post


def conversation_contact_set(*, conversation: Conversation, name: str = "", email: str = "") -> Conversation:
    """Who the customer is, as they said in the widget's pre-chat form: both optional.

    Fields left empty keep what is stored (a customer who skips the email is not
    forgotten by an earlier answer). Nothing is posted to the conversation: the
    form comes before it starts. Agents see both on the conversation's inbox line.
    """
    name = fields.contact_name(name)
    email = fields.contact_email(email, required=False)
    if name or email:
        with transaction.atomic():
            _contact_save(conversation, name=name, email=email)
            events.inbox_changed_on_commit(conversation)
    return conversation


def _contact_save(conversation: Conversation, *, name: str = "", email: str = "") -> None:
    changes = {key: value for key, value in (("contact_name", name), ("contact_email", email)) if value}
    Conversation.objects.filter(pk=conversation.pk).update(**derived_columns(Conversation, changes))
    conversation.refresh_from_db()


def contact_record(*, conversation: Conversation, email: str) -> Conversation:
    """An address for a colleague to write back to (asked for outside working hours); the customer is thanked."""
    email = fields.contact_email(email, required=True)
    with transaction.atomic():
        _contact_save(conversation, email=email)
        system_message_post(
            conversation=conversation,
            text=notice_in(customer_language(conversation=conversation), notices.CONTACT_THANKS_NOTICE, email=email),
        )
        events.inbox_changed_on_commit(conversation)
    return conversation
