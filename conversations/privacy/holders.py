"""What this app registers in the personal-data registry (helpdesk.privacy): its tables with a path to a customer
or a conversation, and the Redis state kept per conversation. Called from ConversationsConfig.ready().

Decisions: a customer's own rows go (contact record, conversations, messages, votes, dismissed suggestions).
Rows others rely on stay without what leads back to them: an LLM call keeps its timings and token counts for the
operations figures; an evaluation result keeps pass/fail for its run's figures but not the question or answer.
An evaluation case or an FAQ suggestion made from the customer's conversation is deleted: accepting a suggestion
copies the customer's own words into the case's question, and nothing tells a curator's later rewrite from them.
"""

from __future__ import annotations

from django.db.models import QuerySet

from helpdesk.privacy import DataSubject, PersonalDataHolder, PersonalDataStore, holder_register, store_register
from helpdesk.web import ratelimits

from .. import events
from ..models import (
    ActionCall,
    Conversation,
    Customer,
    EmailDelivery,
    EvalCase,
    EvalResult,
    EvalSuggestionDismissal,
    FAQSuggestion,
    Feedback,
    Handoff,
    LLMCall,
    Message,
    ModerationHit,
    WebhookDelivery,
)
from ..reply_progress import reply_progress_forget
from ..services.cancel import cancel_flags_clear
from ..stats.gaps import gap_vectors_erase

ERASED = "[erased]"


def llm_calls_anonymise(calls: QuerySet[LLMCall]) -> int:
    return calls.update(conversation=None, message=None, error="")


def eval_results_anonymise(results: QuerySet[EvalResult]) -> int:
    return results.update(question=ERASED, answer="", case=None, failures=[], unverified_facts=[])


def conversation_state_erase(subject: DataSubject) -> int:
    """Redis keys naming the subject's conversations or messages: rate-limit counts, open sockets, cancel flags,
    the text of replies streaming; and the widgets still open on them are closed. Drafts and typing go through the
    channel layer only and are never stored."""
    for conversation_id in subject.conversation_ids:
        ratelimits.conversation_limits_clear(conversation_id=conversation_id)
        events.conversation_erased(conversation_id)
    return cancel_flags_clear(message_ids=subject.message_ids) + reply_progress_forget(subject.message_ids)


def holders_register() -> None:
    for holder in (
        # Retention (conversations.privacy.retention): a customer record expires when last seen longer ago than
        # its period (their conversations stay, unlinked); a conversation when its last message (its creation,
        # when it has none) is; messages, feedback and Ollama calls each by when they were written.
        PersonalDataHolder(model=Customer, customer_lookup="id", retention="customers", time_field="last_seen_at"),
        PersonalDataHolder(
            model=Conversation, conversation_lookup="id", customer_lookup="customer_id", retention="conversations",
            time_field="last_message_at",
        ),
        PersonalDataHolder(model=Message, conversation_lookup="conversation_id", retention="messages"),
        PersonalDataHolder(model=Feedback, conversation_lookup="conversation_id", retention="feedback"),
        # Each handoff of a conversation (why, when, to whom): kept as long as its conversation, gone with it.
        PersonalDataHolder(model=Handoff, conversation_lookup="conversation_id", time_field="at",
                           export_fields=("reason", "at", "first_response_at", "ended_at", "outcome")),
        # The calls to the company's systems (conversations.actions): their arguments and results are the customer's.
        PersonalDataHolder(model=ActionCall, conversation_lookup="conversation_id", retention="messages"),
        PersonalDataHolder(
            model=LLMCall, conversation_lookup="conversation_id", erase="anonymise", anonymise=llm_calls_anonymise,
            retention="llm_calls",
        ),
        PersonalDataHolder(
            model=EvalSuggestionDismissal, conversation_lookup="message__conversation_id", time_field="dismissed_at"
        ),
        PersonalDataHolder(model=EvalCase, conversation_lookup="suggested_from__conversation_id"),
        # An FAQ suggestion copies the customer's question (personal data masked by rules, which may miss a name):
        # it goes with its conversation, published or not; an FAQ entry published from it is the curator's text.
        PersonalDataHolder(model=FAQSuggestion, conversation_lookup="conversation_id", retention="messages"),
        # A hit names no text, but says what a customer (or the bot to them) wrote about: it goes with its message.
        PersonalDataHolder(
            model=ModerationHit, conversation_lookup="message__conversation_id",
            export_fields=("category", "where", "action", "source", "created_at"),
        ),
        # What was sent out about a conversation: the events' payloads carry its messages; an emailed reply's
        # row names its message. Both go with their conversation.
        PersonalDataHolder(model=WebhookDelivery, conversation_lookup="conversation_id",
                           export_fields=("event", "status", "attempts", "created_at", "delivered_at")),
        PersonalDataHolder(model=EmailDelivery, conversation_lookup="conversation_id",
                           export_fields=("message_id", "status", "attempts", "error", "created_at", "sent_at")),
        PersonalDataHolder(
            model=EvalResult,
            conversation_lookup="case__suggested_from__conversation_id",
            erase="anonymise",
            anonymise=eval_results_anonymise,
        ),
    ):
        holder_register(holder)
    store_register(PersonalDataStore(name="conversation state", erase=conversation_state_erase))
    # The knowledge gaps' question vectors, kept in the shared cache under a digest of the customer's words.
    store_register(PersonalDataStore(name="knowledge gaps' vectors",
                                     erase=lambda subject: gap_vectors_erase(list(subject.customer_texts))))
