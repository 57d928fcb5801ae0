"""How to reach the customer: the pre-chat form's name and email, an address left outside working hours."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .. import events, notices
from ..models import Conversation
from ..notices import notice_in
from ..selectors.replies import customer_language
from .posting import system_message_post
from .validation import MessageRejected

CONTACT_NAME_MAX_CHARS = 255


def _validate_contact_email(email: Any, *, required: bool) -> str:
    """An address a colleague can write back to; "" when not given and not `required`."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    email = "" if email is None else email
    if not isinstance(email, str):
        raise MessageRejected("invalid_email", "email must be text")
    email = email.strip()
    if not email and not required:
        return ""
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise MessageRejected("invalid_email", "this does not look like an email address") from None
    return email


def _validate_contact_name(name: Any) -> str:
    """A name as the customer wrote it, on one line; "" when not given."""
    if name is None:
        return ""
    if not isinstance(name, str):
        raise MessageRejected("invalid_name", "name must be text")
    name = " ".join(name.split())
    if len(name) > CONTACT_NAME_MAX_CHARS or not name.isprintable():
        raise MessageRejected("invalid_name", f"name must be at most {CONTACT_NAME_MAX_CHARS} printable characters")
    return name


def conversation_contact_set(*, conversation: Conversation, name: Any = "", email: Any = "") -> Conversation:
    """Who the customer is, as they said in the widget's pre-chat form: both optional.

    Fields left empty keep what is stored (a customer who skips the email is not
    forgotten by an earlier answer). Nothing is posted to the conversation: the
    form comes before it starts. Agents see both on the conversation's inbox line.
    """
    name = _validate_contact_name(name)
    email = _validate_contact_email(email, required=False)
    if name or email:
        with transaction.atomic():
            _contact_save(conversation, name=name, email=email)
            events.inbox_changed_on_commit(conversation)
    return conversation


def _contact_save(conversation: Conversation, *, name: str = "", email: str = "") -> None:
    changes = {key: value for key, value in (("contact_name", name), ("contact_email", email)) if value}
    Conversation.objects.filter(pk=conversation.pk).update(**changes)
    conversation.refresh_from_db()


def contact_record(*, conversation: Conversation, email: Any) -> Conversation:
    """An address for a colleague to write back to (asked for outside working hours); the customer is thanked."""
    email = _validate_contact_email(email, required=True)
    with transaction.atomic():
        _contact_save(conversation, email=email)
        system_message_post(
            conversation=conversation,
            text=notice_in(customer_language(conversation=conversation), notices.CONTACT_THANKS_NOTICE, email=email),
        )
        events.inbox_changed_on_commit(conversation)
    return conversation


