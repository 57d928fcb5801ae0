"""Who a customer's rights request is about: the conversations and contact records found by what they gave.

`subject_find` is the one look-up by contact data (verified external id, email, conversation token). Contact fields
are encrypted at rest, so it compares their keyed-hash columns (conversations.selectors.customers).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils.crypto import salted_hmac

from helpdesk.privacy import DataSubject, PersonalDataHolder, holders

from ..models import Conversation, Message
from ..selectors.access import conversation_get_by_token
from ..selectors.customers import customer_find

# Longest run of consecutive customer messages whose joined forms are tried against the answer cache.
TEXT_RUN_MAX = 12


def subject_find(*, external_id: str | None = None, email: str | None = None, token: str | None = None) -> DataSubject:
    """Everything found by any of the given keys (empty when nothing matches).

    An external id or an email finds the customer record (signed identities only ever create one) and all of
    its conversations; an email also finds anonymous conversations that left it as their contact address. A
    token finds its one conversation, not the rest of its customer's: it proves access to that conversation only.
    """
    customer_ids: set[int] = set()
    conversation_ids: set[int] = set()
    # Contact fields are encrypted at rest: SQL compares their keyed hashes (case aside for emails).
    customer_ids |= {customer.pk for customer in customer_find(external_id=external_id, email=email)}
    if email and email.strip():
        email_hash = Conversation._meta.get_field("contact_email_hash").hash_of(email.strip())
        conversation_ids |= set(Conversation.objects.filter(contact_email_hash=email_hash).values_list("pk", flat=True))
    if token and (conversation := conversation_get_by_token(token=token.strip())) is not None:
        conversation_ids.add(conversation.pk)
    return subject_of(customer_ids=customer_ids, conversation_ids=conversation_ids)


def subject_of(*, customer_ids: Iterable[int] = (), conversation_ids: Iterable[int] = ()) -> DataSubject:
    """The subject made of these customers (with all their conversations) and these conversations."""
    customer_ids = set(customer_ids)
    conversation_ids = set(conversation_ids)
    if customer_ids:
        conversation_ids |= set(Conversation.objects.filter(customer_id__in=customer_ids).values_list("pk", flat=True))
    conversation_ids = set(
        Conversation.objects.filter(pk__in=conversation_ids, evaluation=False).values_list("pk", flat=True)
    )
    rows = list(
        Message.objects.filter(conversation_id__in=conversation_ids)
        .order_by("conversation_id", "id")
        .values_list("pk", "conversation_id", "role", "content")
    )
    return DataSubject(
        conversation_ids=frozenset(conversation_ids),
        customer_ids=frozenset(customer_ids),
        customer_texts=customer_texts(rows),
        message_ids=frozenset(pk for pk, *_ in rows),
    )


def customer_texts(rows: list[tuple[int, int, str, str]]) -> tuple[str, ...]:
    """What the customer wrote, as the answer cache may have been keyed by it: each message, and each stretch of
    consecutive messages joined (the pipeline asks the customer's unanswered messages as one question).
    Notes and system notices do not interrupt a stretch: they are not in the dialogue the pipeline reads."""
    texts: list[str] = []
    run: list[str] = []
    previous_conversation = None

    def flush() -> None:
        for start in range(len(run)):
            for end in range(start + 1, min(len(run), start + TEXT_RUN_MAX) + 1):
                texts.append("\n".join(run[start:end]))
        run.clear()

    for _pk, conversation_id, role, content in rows:
        if conversation_id != previous_conversation:
            flush()
            previous_conversation = conversation_id
        if role == Message.Role.CUSTOMER:
            run.append(content)
        elif role in (Message.Role.BOT, Message.Role.AGENT):
            flush()
    flush()
    return tuple(dict.fromkeys(text for text in texts if text.strip()))


def holder_rows(holder: PersonalDataHolder, subject: DataSubject) -> QuerySet:
    """The holder's rows about the subject."""
    condition = Q(pk__in=[])
    if holder.conversation_lookup and subject.conversation_ids:
        condition |= Q(**{f"{holder.conversation_lookup}__in": subject.conversation_ids})
    if holder.customer_lookup and subject.customer_ids:
        condition |= Q(**{f"{holder.customer_lookup}__in": subject.customer_ids})
    return holder.model._default_manager.filter(condition)


def subject_rows(subject: DataSubject) -> list[tuple[PersonalDataHolder, list[int]]]:
    """Every registered holder with the ids of its rows about the subject, taken before anything changes (an
    erasure's deletes would cut the paths the later look-ups go by)."""
    return [(holder, list(holder_rows(holder, subject).values_list("pk", flat=True))) for holder in holders()]


def subject_digest(looked_up_by: str, value: str) -> str:
    """A keyed digest of what a subject was looked up by, for the request's record: matches a later request for
    the same key, reveals nothing without the server's secret."""
    return salted_hmac(
        "helpdesk.privacy.subject", f"{looked_up_by}:{value.strip().lower()}", algorithm="sha256"
    ).hexdigest()


def model_label(model: type) -> str:
    return model._meta.label_lower


def lookup_described(
    *, external_id: str | None = None, email: str | None = None, token: str | None = None
) -> tuple[str, str]:
    """(what a subject was looked up by, the value) for the request's record: several keys are recorded as one."""
    given = [
        (name, value.strip())
        for name, value in (("external_id", external_id), ("email", email), ("token", token))
        if value and value.strip()
    ]
    return "+".join(name for name, _ in given), "\x00".join(value for _, value in given)
