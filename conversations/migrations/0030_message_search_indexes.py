"""GIN indexes for conversation search on PostgreSQL (conversations.selectors.search says why these two).

Raw SQL guarded by the database vendor, not Meta.indexes or a GeneratedField: SQLite has neither tsvector, GIN
nor pg_trgm, and embedded mode keeps searching without indexes. pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may
create it without being a superuser."""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)

# The token index as a tsvector stored beside it, not a functional index on the cast: the planner reads small
# tables (and common tokens) whole, and casting every row's index there cost 7 µs a row, ten times LIKE's.
# PostgreSQL keeps it up to date; a later change of search_index's type must drop it first.
TOKENS = (
    "ALTER TABLE conversations_message ADD COLUMN search_tokens tsvector "
    "GENERATED ALWAYS AS (search_index::tsvector) STORED",
    "CREATE INDEX conversations_message_search_tokens ON conversations_message USING gin (search_tokens)",
)
CLEAR_TEXT = (
    "CREATE INDEX conversations_message_clear_trgm "
    "ON conversations_message USING gin (UPPER(content) gin_trgm_ops) WHERE NOT (content LIKE 'enc1:%%')"
)


def indexes_create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in TOKENS:
        schema_editor.execute(sql)
    # Where the database's user may not create extensions (some managed databases), the helpdesk still starts:
    # text in clear is searched without an index, as before this migration (a savepoint keeps the rest).
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            schema_editor.execute(CLEAR_TEXT)
    except DatabaseError as exc:
        logger.warning("conversation search: no trigram index for messages in clear (%s); ask the database's "
                       "administrator for `CREATE EXTENSION pg_trgm` and run `manage.py migrate conversations "
                       "0029` then `migrate` again to add it", str(exc).strip().splitlines()[0])


def indexes_drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS conversations_message_search_tokens")
    schema_editor.execute("ALTER TABLE conversations_message DROP COLUMN IF EXISTS search_tokens")
    schema_editor.execute("DROP INDEX IF EXISTS conversations_message_clear_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0029_teams_labels_sla"),
    ]

    operations = [
        migrations.RunPython(indexes_create, indexes_drop, elidable=False),
    ]
