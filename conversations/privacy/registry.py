"""The conversations app's entries in the personal-data registry (helpdesk.privacy), made in AppConfig.ready()."""

from __future__ import annotations

from helpdesk.privacy import PersonalDataHolder, holder_register


def personal_data_register() -> None:
    """Register every conversations model whose rows can be traced to a customer, with its retention category.

    A conversation expires when its last message is older than the "conversations" period (`last_message_at`;
    one that never had a message, by its creation); its messages, feedback and Ollama calls also expire on their
    own periods, by when each was written. A customer record (a signed-in user's id, name, email) expires when
    the customer was last seen longer ago than the "customers" period; their conversations stay, unlinked."""
    from ..models import Conversation, Customer, Feedback, LLMCall, Message

    holder_register(
        PersonalDataHolder(
            model=Conversation,
            conversation_lookup="id",
            customer_lookup="customer_id",
            retention="conversations",
            time_field="last_message_at",
        )
    )
    holder_register(
        PersonalDataHolder(model=Customer, customer_lookup="id", retention="customers", time_field="last_seen_at")
    )
    holder_register(PersonalDataHolder(model=Message, conversation_lookup="conversation_id", retention="messages"))
    holder_register(PersonalDataHolder(model=Feedback, conversation_lookup="conversation_id", retention="feedback"))
    holder_register(PersonalDataHolder(model=LLMCall, conversation_lookup="conversation_id", retention="llm_calls"))
