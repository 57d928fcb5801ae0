"""Text search over messages whose text is encrypted at rest (ENCRYPT_MESSAGES), for the inbox and admin.

SQL cannot read an encrypted message, so each one carries a search index: the keyed hashes (LOOKUP_HASH_KEY) of
its words' prefixes and of its Chinese characters and character pairs (helpdesk.encryption.search_index). A
query is turned into the same tokens; the messages holding all of them are candidates, and the newest
SEARCH_VERIFY_MAX of them are decrypted and kept only when they really contain the query, so results are the
same as a case-insensitive substring search, with two limits: a Latin-script query matches from the start of a
word ("refund" finds "refunds", "fund" does not), and a query of one Latin letter or punctuation alone finds no
encrypted message. Messages stored in clear (ENCRYPT_MESSAGES off, or written before it) are searched by SQL.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast

from helpdesk import encryption

from ..models import Message


def message_ids_matching(*, query: str) -> list[int]:
    """Ids of the messages whose text contains `query` (case and full/half width aside), encrypted or not."""
    query = query.strip()
    if not query:
        return []
    in_clear = _in_clear(query).values_list("pk", flat=True)
    return sorted({*in_clear, *(pk for pk, _ in _encrypted_matches(query))})


def conversations_matching(*, query: str) -> Q:
    """A filter on Conversation: those with a message containing `query` (see message_ids_matching). Text in clear
    stays a subquery, so SQL does that part whole."""
    query = query.strip()
    if not query:
        return Q(pk__in=[])
    encrypted = sorted({conversation_id for _, conversation_id in _encrypted_matches(query)})
    return Q(pk__in=_in_clear(query).values("conversation_id")) | Q(pk__in=encrypted)


def _raw() -> QuerySet:
    """Messages with their stored text beside them, undecrypted (SQL can compare only that)."""
    return Message.objects.annotate(raw_content=Cast("content", output_field=TextField()))


def _in_clear(query: str) -> QuerySet:
    """Messages stored in clear that contain `query`: SQL, as before encryption."""
    return _raw().exclude(raw_content__startswith=encryption.PREFIX).filter(raw_content__icontains=query)


def _encrypted_matches(query: str) -> list[tuple[int, int]]:
    """(message id, conversation id) of the encrypted messages containing `query`: the index's candidates, the
    newest SEARCH_VERIFY_MAX of them decrypted and checked."""
    tokens = encryption.search_query_tokens(query)
    if not tokens:
        return []
    candidates = _raw().filter(raw_content__startswith=encryption.PREFIX)
    for token in tokens:
        candidates = candidates.filter(search_index__contains=f" {token} ")
    newest = candidates.order_by("-pk").values_list("pk", "conversation_id", "content")
    return [(pk, c) for pk, c, text in newest[: settings.SEARCH_VERIFY_MAX] if encryption.search_matches(query, text)]
