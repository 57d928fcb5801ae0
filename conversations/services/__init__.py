"""Writes of the conversations app, one module per subject.

- `identity`: the host site's signed customer identity, and the conversation it opens
- `messages`: what customers and agents write (and what a customer's message sets off), private notes
- `handoff`: every status change (`conversation_transition`): to the human queue, an agent, back to the bot, resolved
- `replies`: a bot reply's life (start, progress, finish, abandon, the sweep) and its LLM-call record
- `feedback`, `contact`, `presence` (and typing), `drafts`
- below them: `posting` (every stored message is counted and pushed), `cancel` (stopping replies), `validation`

Every change a client must hear about is stored first and pushed after the
transaction commits through `conversations.events`, which decides who hears
it; tasks are enqueued the same way, so a worker never looks for a row that
is not there yet. Import from the subject's module.
"""

from __future__ import annotations

# Still imported from the package by modules other branches are rewriting (both consumers, the pipeline,
# helpdesk's serve command and tests): drop each name once its last importer uses the subject's module.
from .cancel import cancel_flag_key, replies_cancel
from .contact import contact_record, conversation_contact_set
from .feedback import csat_record, feedback_record
from .handoff import ConversationTaken, NotYourConversation, conversation_request_human
from .identity import conversation_create
from .messages import message_post_customer
from .presence import agent_presence_set, agent_typing, customer_typing
from .replies import bot_reply_finish, bot_reply_start, llm_call_record, replies_abandoned_fail, reply_progress_save
from .validation import MessageRejected

__all__ = [
    "ConversationTaken",
    "MessageRejected",
    "NotYourConversation",
    "agent_presence_set",
    "agent_typing",
    "bot_reply_finish",
    "bot_reply_start",
    "cancel_flag_key",
    "contact_record",
    "conversation_contact_set",
    "conversation_create",
    "conversation_request_human",
    "csat_record",
    "customer_typing",
    "feedback_record",
    "llm_call_record",
    "message_post_customer",
    "replies_abandoned_fail",
    "replies_cancel",
    "reply_progress_save",
]
