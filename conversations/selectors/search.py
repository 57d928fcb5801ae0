"""Text search over messages, encrypted at rest (ENCRYPT_MESSAGES) or in clear, for the inbox and admin.

SQL cannot read an encrypted message, so each one carries a search index: the keyed tokens (LOOKUP_HASH_KEY) of
its words' prefixes and of its Chinese characters and character pairs (helpdesk.encryption.search_index). A
query is turned into the same tokens; the messages holding all of them are candidates, and the newest
SEARCH_VERIFY_MAX of them are decrypted and kept only when they really contain the query, so results are the
same as a case-insensitive substring search, with two limits: a Latin-script query matches from the start of a
word ("refund" finds "refunds", "fund" does not), and a query of one Latin letter or punctuation alone finds no
encrypted message. Messages stored in clear (ENCRYPT_MESSAGES off, or written before it) are searched by SQL's
case-insensitive LIKE on their text, without those limits.

On PostgreSQL both halves are answered from GIN indexes (migration 0030) instead of reading every message:

- The token index is read as a tsvector by PostgreSQL's tsvector input (`search_index::tsvector`, stored in the
  generated column `search_tokens`), not by `to_tsvector('simple', ...)`: the text-search parser splits a
  base64url token at "-" and "_" and lowercases it ("Ab-9_xY2" becomes "ab", "-9", "xy2"), while the input cast
  keeps each space-separated token as one lexeme, as it is. A query is the raw tsquery of its tokens ANDed
  (`'t1' & 't2'`), so the stored tokens stay as they were (no re-indexing, no new key use), and the index answers
  exactly what `LIKE '% t1 %'` did. Stored rather than a functional index on the cast, because where the planner
  reads the table whole (a small table, a common token) casting every row cost ten times the LIKE. A tsvector
  holds 1 MB, some 80,000 tokens: far beyond a message (MESSAGE_MAX_CHARS of Chinese make 8,000).
- Text in clear keeps its query (`UPPER(content) LIKE UPPER('%q%')`), served by a pg_trgm index on
  `UPPER(content)`, partial on the rows not encrypted (ciphertext would only fill it with random trigrams).
  A trigram index rechecks every candidate, so results are exactly the substring search's, with no limits.
  Giving messages in clear keyed tokens too would have been one path for both, but it would have brought the
  token index's two limits to text that has none today. pg_trgm reads Chinese characters as letters under a
  UTF-8 locale (PostgreSQL's images use one; the plain C locale does not), so "退款了" is found by its trigram;
  a query shorter than three characters has no trigram to look up and is answered by reading the table, as
  before.

SQLite keeps the same queries without indexes (`LIKE '% t1 %'` per token, LIKE on the text): the simple fallback
of embedded mode, whose databases are small.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Q, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from helpdesk import encryption

from ..models import Message

# The GIN indexes of migration 0030 (PostgreSQL only); tests read the query plans for them.
TOKEN_INDEX = "conversations_message_search_tokens"
CLEAR_TEXT_INDEX = "conversations_message_clear_trgm"


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
    """Messages stored in clear that contain `query`: SQL, as before encryption (the trigram index on PostgreSQL
    serves exactly this expression and predicate). Unordered: callers sort, and ordering by id would invite the
    planner to walk the primary key instead."""
    return _raw().exclude(raw_content__startswith=encryption.PREFIX).filter(raw_content__icontains=query).order_by()


def _encrypted_candidates(tokens: list[str]) -> QuerySet:
    """Encrypted messages whose index holds every token: by the GIN token index on PostgreSQL, by LIKE elsewhere.
    Tokens are base64url, so quoting each one is all a raw tsquery needs."""
    candidates = _raw().filter(raw_content__startswith=encryption.PREFIX)
    if connection.vendor == "postgresql":
        tsquery = " & ".join(f"'{token}'" for token in tokens)
        # search_tokens is migration 0030's generated column, unknown to the model (SQLite has no tsvector).
        return candidates.filter(RawSQL(f'"{Message._meta.db_table}"."search_tokens" @@ %s::tsquery', (tsquery,),
                                        output_field=BooleanField()))
    for token in tokens:
        candidates = candidates.filter(search_index__contains=f" {token} ")
    return candidates


def _encrypted_matches(query: str) -> list[tuple[int, int]]:
    """(message id, conversation id) of the encrypted messages containing `query`: the index's candidates, the
    newest SEARCH_VERIFY_MAX of them decrypted and checked."""
    tokens = encryption.search_query_tokens(query)
    if not tokens:
        return []
    newest = _encrypted_candidates(tokens).order_by("-pk").values_list("pk", "conversation_id", "content")
    return [(pk, c) for pk, c, text in newest[: settings.SEARCH_VERIFY_MAX] if encryption.search_matches(query, text)]
