"""The pre-chat form: an optional name and email, checked, stored for the agents' inbox."""

from __future__ import annotations

import pytest

from conversations.protocol import FrameError
from conversations.services import contact

from .factories import conversation_factory, customer_message_factory

pytestmark = pytest.mark.django_db


def test_the_pre_chat_form_stores_a_name_and_an_email_agents_see_in_the_inbox() -> None:
    from conversations.selectors import inbox as inbox_selectors

    conversation = conversation_factory()
    contact.conversation_contact_set(conversation=conversation, name="  Li   Lei ", email=" li@example.com ")
    conversation.refresh_from_db()
    assert (conversation.contact_name, conversation.contact_email) == ("Li Lei", "li@example.com")
    line = inbox_selectors.inbox_item(conversation)
    assert (line["contact_name"], line["contact_email"]) == ("Li Lei", "li@example.com")
    assert not conversation.messages.exists()  # the form comes before the conversation: nothing posted in it


def test_pre_chat_fields_are_optional_and_an_empty_one_keeps_what_is_stored() -> None:
    conversation = conversation_factory(contact_email="kept@example.com")
    contact.conversation_contact_set(conversation=conversation, name="Mei", email="")
    contact.conversation_contact_set(conversation=conversation)
    conversation.refresh_from_db()
    assert (conversation.contact_name, conversation.contact_email) == ("Mei", "kept@example.com")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"email": "not an address"}, "invalid_email"),
        ({"email": 42}, "invalid_email"),
        ({"email": "a@" + "b" * 250 + ".com"}, "invalid_email"),
        ({"name": "x" * 256}, "invalid_name"),
        ({"name": ["Li"]}, "invalid_name"),
        ({"name": "Li\x00Lei"}, "invalid_name"),
    ],
)
def test_a_bad_pre_chat_field_is_refused_and_nothing_is_stored(fields: dict, code: str) -> None:
    conversation = conversation_factory()
    with pytest.raises(FrameError) as error:
        contact.conversation_contact_set(conversation=conversation, **{"name": "Li", **fields})
    assert error.value.code == code
    conversation.refresh_from_db()
    assert (conversation.contact_name, conversation.contact_email) == ("", "")


def test_the_pre_chat_form_is_wanted_only_for_an_unknown_customer_who_has_not_started(settings) -> None:
    from conversations.models import Customer
    from conversations.selectors import history as history_selectors

    fresh = conversation_factory()
    assert not history_selectors.prechat_form_wanted(conversation=fresh)  # off by default
    settings.WIDGET_PRECHAT_FORM = True
    assert history_selectors.prechat_form_wanted(conversation=fresh)
    started = conversation_factory()
    customer_message_factory(started, "hello")
    named = conversation_factory(contact_name="Li")
    verified = conversation_factory(customer=Customer.objects.create(external_id="u-1", name="Li"))
    assert not any(history_selectors.prechat_form_wanted(conversation=c) for c in (started, named, verified))
