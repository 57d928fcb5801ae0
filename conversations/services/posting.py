"""What every stored message goes through: counted in the metrics and pushed to who may read it.

Below every other write module (the notices of a handoff, a reply's end, an
agent's answer all end here), so that none of them imports another to post.
"""

from __future__ import annotations

from django.db import transaction

from helpdesk.observability import metrics

from .. import events
from ..models import Conversation, Message, WebhookEvent
from ..webhooks.emit import webhook_on_commit


def message_publish(message: Message, *, profile_name: str = "") -> None:
    """Once the transaction commits: count the stored (or finished) message, with a bot reply's timings under
    `profile_name`, then tell whoever may read it (events.message_on_commit says who)."""
    if message.conversation.evaluation:  # an evaluation run's traffic is not the product's traffic
        events.message_on_commit(message)
        return
    _webhook_on_commit(message)

    def record() -> None:
        metrics.message_stored(message.role)
        if message.role == Message.Role.BOT:
            metrics.reply_recorded(
                profile=profile_name or "settings", node=message.ollama_host, answer_source=message.answer_source,
                complete=message.status == Message.Status.COMPLETE, ttft_ms=message.ttft_ms,
                total_ms=message.total_ms, reply_tokens=message.reply_tokens,
                failed=message.status == Message.Status.FAILED,
            )

    transaction.on_commit(record)
    events.message_on_commit(message)


def _webhook_on_commit(message: Message) -> None:
    """Webhook endpoints hear of each customer message as it is stored, and of each bot reply once it is final
    (finished streaming, or a stored answer), not of its start."""
    if message.role == Message.Role.CUSTOMER:
        webhook_on_commit(WebhookEvent.CUSTOMER_MESSAGE, conversation=message.conversation, message=message)
    elif message.role == Message.Role.BOT and message.status != Message.Status.STREAMING:
        webhook_on_commit(WebhookEvent.BOT_REPLY, conversation=message.conversation, message=message)


def system_message_post(*, conversation: Conversation, text: str) -> Message:
    """A notice to the customer from the helpdesk itself (a handoff, an agent joining, a thank-you)."""
    message = Message.objects.create(
        conversation=conversation, role=Message.Role.SYSTEM, content=text, profile_id=conversation.profile_id
    )
    message_publish(message)
    return message
