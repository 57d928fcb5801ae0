"""One email per agent's reply: in the customer's language, threaded per conversation, with a transcript link.

Threading: every email carries its own Message-ID; the next one of the same conversation answers it
(`In-Reply-To`) and lists the thread (`References`, the first and the latest few), so mail clients show one thread.
The transcript link is signed and expires (TRANSCRIPT_LINK_MAX_AGE_DAYS): it proves access to that conversation
only, as its token would, without putting the token in an address that mail systems log.
"""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from ..models import Conversation, EmailDelivery, Message
from ..selectors.messages import agent_name

TRANSCRIPT_SALT = "conversations.transcript-link"
# References kept besides the thread's first email: enough for any client to thread, short enough for any server.
REFERENCES_KEPT = 8

SUBJECT = gettext_noop("Reply to your conversation with our support team")
BODY = gettext_noop("%(agent)s replied to your conversation:")
TRANSCRIPT = gettext_noop("The whole conversation (the link works for %(days)s days):")
FOOTER = gettext_noop("You can also reply in the chat on our website.")


def mail_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "localhost"


def message_id_for(message: Message) -> str:
    return f"<conversation-{message.conversation_id}.message-{message.pk}@{mail_domain()}>"


def transcript_link(conversation: Conversation) -> str:
    """The signed, expiring address of the conversation's transcript; "" without PUBLIC_BASE_URL."""
    if not settings.PUBLIC_BASE_URL:
        return ""
    signed = signing.dumps(conversation.pk, salt=TRANSCRIPT_SALT, compress=True)
    return settings.PUBLIC_BASE_URL + reverse("conversation-transcript-link", args=[signed])


def transcript_link_open(signed: str) -> int | None:
    """The conversation id a link names, or None when it is forged or expired."""
    try:
        value = signing.loads(signed, salt=TRANSCRIPT_SALT, max_age=settings.TRANSCRIPT_LINK_MAX_AGE_DAYS * 86400)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def email_compose(delivery: EmailDelivery, *, language: str) -> EmailMessage:
    message = delivery.message
    conversation = delivery.conversation
    earlier = list(
        EmailDelivery.objects.filter(conversation=conversation, pk__lt=delivery.pk)
        .order_by("pk").values_list("message_id_header", flat=True)
    )
    link = transcript_link(conversation)
    with translation.override(language):
        subject = gettext(SUBJECT)
        lines = [gettext(BODY) % {"agent": agent_name(message.author)}, "", message.content, ""]
        if link:
            lines += [gettext(TRANSCRIPT) % {"days": settings.TRANSCRIPT_LINK_MAX_AGE_DAYS}, link, ""]
        lines.append(gettext(FOOTER))
    headers = {"Message-ID": delivery.message_id_header}
    if earlier:
        subject = f"Re: {subject}"
        headers["In-Reply-To"] = earlier[-1]
        kept = earlier[:1] + earlier[1:][-REFERENCES_KEPT:]
        headers["References"] = " ".join(kept)
    return EmailMessage(subject=subject, body="\n".join(lines), to=[conversation.contact_email], headers=headers)
